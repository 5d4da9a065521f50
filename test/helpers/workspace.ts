import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Subprocess } from "bun";

/** The repository root (where cli.ts lives). */
export const REPO = resolve(import.meta.dir, "../..");

/** Create a temp workspace (root package.json with workspaces, tsconfig mapping "flash" to this core) plus `files`. */
export function makeWorkspace(files: Record<string, string> = {}, prefix = "flash-ws-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFiles(dir, {
    "package.json": JSON.stringify({ name: "test-ws", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] }),
    "tsconfig.json": JSON.stringify({ compilerOptions: { paths: { flash: [join(REPO, "core/index.ts")] } } }),
    ...files,
  });
  return dir;
}

/** Write files (paths relative to `dir`), creating folders as needed. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
}

/** `count` distinct ports the OS just handed out (listened on, then closed), for a process told its ports up front. */
export function freePorts(count: number): number[] {
  const servers = Array.from({ length: count }, () =>
    Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() }),
  );
  const ports = servers.map((server) => server.port as number); // read before stop(), which resets it to 0
  for (const server of servers) server.stop(true);
  return ports;
}

/** Remove a temp workspace. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A router file exporting `{type}_router` with `POST /echo` (validated body) and `GET /hello`. */
export function workerSource(type: string, reply = "hello"): string {
  return `import { Elysia, t } from "flash";
export const ${type}_router = new Elysia()
  .get("/hello", () => ({ reply: ${JSON.stringify(reply)}, type: ${JSON.stringify(type)} }))
  .post("/echo", ({ body }) => ({ echo: body.text }), { body: t.Object({ text: t.String({ minLength: 1 }) }) });
`;
}

/** A `flash run` subprocess on a free port. */
export interface FlashProcess {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** Send SIGINT and wait for exit; returns the exit code. */
  stop(): Promise<number>;
}

/** Wait for a piped process to end: its exit code and its stdout followed by its stderr. */
export async function finished(proc: {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  exited: Promise<number>;
}): Promise<{ code: number; out: string }> {
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out: out + err };
}

/** Read a process's stdout and stderr as they arrive; the returned function gives everything so far. */
export function collectOutput(proc: {
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
}): () => string {
  let text = "";
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    })();
  }
  return () => text;
}

/** Start `flash run` (from source, or a given binary) in `cwd` with extra args, and wait until it prints its URL. */
export async function startFlash(
  cwd: string,
  args: string[] = [],
  env: Record<string, string> = {},
  options: { binary?: string; autoPort?: boolean } = {},
): Promise<FlashProcess> {
  const { binary, autoPort = true } = options;
  const cmd = binary ? [binary, "run", ...args] : [process.execPath, join(REPO, "cli.ts"), "run", ...args];
  if (autoPort && !args.includes("--port") && !args.includes("-p") && env.FLASH_PORT === undefined)
    cmd.push("--port", "0");
  const proc = Bun.spawn(cmd, {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const output = collectOutput(proc);
  const deadline = Date.now() + 20_000;
  let url = "";
  while (Date.now() < deadline) {
    const m = output().match(/at (http:\/\/[^\s]+)/);
    if (m) {
      url = m[1]!;
      break;
    }
    if (proc.exitCode !== null) break;
    await Bun.sleep(20);
  }
  if (!url) {
    proc.kill("SIGKILL");
    throw new Error(`flash run did not start (exit ${proc.exitCode}):\n${output()}`);
  }
  return {
    url,
    proc,
    output,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGINT");
      const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => -1)]);
      if (code === -1) proc.kill("SIGKILL");
      return code;
    },
  };
}

/** POST JSON and return status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: res.status, body: parsed };
}

/** Run a `flash` command from source in `cwd` and wait for it; returns the exit code and stdout + stderr. */
export function runFlash(cwd: string, args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const res = Bun.spawnSync([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: res.exitCode, out: res.stdout.toString() + res.stderr.toString() };
}
