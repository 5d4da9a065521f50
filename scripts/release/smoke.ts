/**
 * The smoke test a release binary must pass where it can run: `--version` and `--help`, then `flash run` serving a
 * small workspace (one example) on a free port, `/health` listing it, a route answering, and a clean stop on SIGINT.
 * The command may be a prefix (`qemu-aarch64 -L … flash-linux-arm64`, or the npm launcher).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What one smoke run saw. */
export interface SmokeResult {
  version: string;
  helpOk: boolean;
  /** From spawning `flash run` to /health answering 200. */
  startMs: number;
  health: { status?: string; examples?: { category: string; name: string }[]; errors?: unknown[] };
  hello: unknown;
  exitCode: number | null;
  output: string;
}

/** A workspace with one example whose router answers GET /hello; the caller removes it. */
export function smokeWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), "flash-smoke-"));
  mkdirSync(join(ws, "01_smoke", "01_hello"), { recursive: true });
  writeFileSync(join(ws, "package.json"), JSON.stringify({ name: "smoke-ws", private: true }));
  writeFileSync(
    join(ws, "01_smoke", "01_hello", "cpu_worker.ts"),
    `import { Elysia } from "elysia";\nexport const cpu_router = new Elysia().get("/hello", () => ({ hello: "from the release" }));\n`,
  );
  return ws;
}

async function readAll(stream: ReadableStream<Uint8Array>, sink: (s: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    sink(decoder.decode(value, { stream: true }));
  }
}

/** Run the smoke test with `command` (the binary, or a prefix ending in it); throws with the output on failure. */
export async function smoke(
  command: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<SmokeResult> {
  const fullEnv = { ...process.env, NO_COLOR: "1", ...env };
  const version = Bun.spawnSync([...command, "--version"], { env: fullEnv, stderr: "pipe" });
  if (version.exitCode !== 0) throw new Error(`--version failed (exit ${version.exitCode}): ${version.stderr}`);
  const help = Bun.spawnSync([...command, "--help"], { env: fullEnv, stderr: "pipe" });
  const ws = smokeWorkspace();
  const started = performance.now();
  const proc = Bun.spawn([...command, "run", "--port", "0"], { cwd: ws, env: fullEnv, stdout: "pipe", stderr: "pipe" });
  let output = "";
  void readAll(proc.stdout, (s) => (output += s));
  void readAll(proc.stderr, (s) => (output += s));
  try {
    const deadline = Date.now() + timeoutMs;
    let url = "";
    while (!url && Date.now() < deadline && proc.exitCode === null) {
      url = /at (http:\/\/\S+)/.exec(output)?.[1] ?? "";
      if (!url) await Bun.sleep(25);
    }
    if (!url) throw new Error(`flash run did not start (exit ${proc.exitCode}):\n${output}`);
    const health = await fetch(`${url}/health`);
    if (health.status !== 200) throw new Error(`/health answered ${health.status}:\n${output}`);
    const startMs = performance.now() - started;
    const body = (await health.json()) as SmokeResult["health"];
    const hello = await (await fetch(`${url}/01_smoke/01_hello/cpu/hello`)).json();
    proc.kill("SIGINT");
    const exitCode = await Promise.race([proc.exited, Bun.sleep(20_000).then(() => null)]);
    return {
      version: version.stdout.toString().trim(),
      helpOk: help.exitCode === 0 && help.stdout.toString().includes("USAGE flash"),
      startMs,
      health: body,
      hello,
      exitCode,
      output,
    };
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    rmSync(ws, { recursive: true, force: true });
  }
}
