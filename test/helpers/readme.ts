/**
 * Test harness for an example's README: every `curl` in its bash blocks is run for real (bash + curl, from a copy
 * of the files it names) against the unified app scoped to the example, served on a real port, once with remote
 * functions on the local pool (`--target local`) and once on the Runpod emulator (`--target emulator`). Each reply
 * must match the JSON the README documents, and the emulator's reply must equal the local one (values that change
 * per call aside). A block that deploys (`flash deploy` to a `flash emulator` it starts) runs once, from the
 * repository root. Every other shell command of the README runs too (`readmeCommandSuite`): servers must serve
 * `/docs`, scripts must exit 0, and what a test cannot run is skipped with its reason.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { buildApp, type UnifiedApp } from "../../core/app/app";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget, type Target } from "../../core/remote/target";
import { OfflineEmulatorTarget } from "./emulator";
import { DEPLOY_TIER, RUNS_IN_DEPLOY_TIER } from "./tiers";

/** One request of a README: the shell command (one or more lines) and the JSON the README says it answers. */
export interface ReadmeRequest {
  command: string;
  /** The JSON block right after the bash block, or the `# {…}` line right after the curl; absent when none. */
  expected?: unknown;
  /** A `text` block right after the bash block: the exact output (a Server-Sent Events stream read with curl -N). */
  expectedText?: string;
}

/**
 * Every bash block that runs curl. A block whose curls are each followed by a `# {…}` line gives one request per
 * curl; any other block is one request (all its lines), paired with a json block that follows it directly.
 */
export function readmeRequests(markdown: string): ReadmeRequest[] {
  const blocks = [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1],
    body: m[2]!,
    start: m.index!,
    end: m.index! + m[0].length,
  }));
  const out: ReadmeRequest[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== "bash" || !/\bcurl /.test(b.body)) return;
    const lines = b.body.replace(/\\\n\s*/g, " ").split("\n");
    const inline = lines.flatMap((line, j) => {
      const next = lines[j + 1]?.trim();
      return line.trim().startsWith("curl ") && next?.startsWith("# {")
        ? [{ command: line.trim(), expected: JSON.parse(next.slice(2)) }]
        : [];
    });
    if (inline.length) return out.push(...inline);
    const next = blocks[i + 1];
    const adjacent = next && markdown.slice(b.end, next.start).trim() === "";
    if (adjacent && next.lang === "text") return out.push({ command: b.body.trim(), expectedText: next.body.trim() });
    out.push({
      command: b.body.trim(),
      expected: adjacent && next.lang === "json" ? JSON.parse(next.body) : undefined,
    });
  });
  return out;
}

/** Keys whose values change from call to call (or worker to worker): the README shows an example value. */
export const VOLATILE_KEYS = new Set([
  "timestamp",
  "completed_at",
  "cold_start",
  "audio_base64",
  "worker",
  "worker_id",
  "pid",
  "request_id",
  "id", // job ids
  "delayTime",
  "executionTime",
  "received_at",
]);
/** Facts of the machine: the READMEs show a GPU-less Linux machine. */
export const MACHINE_KEYS = new Set(["platform", "runtime_version", "gpu", "gpu_name", "gpu_memory_gb"]);

const ignored = (key: string) => VOLATILE_KEYS.has(key) || MACHINE_KEYS.has(key) || key.endsWith("_ms");

/**
 * Where `actual` differs from what the README documents. Objects: every documented key must match (extra keys are
 * fine). Arrays: the documented items must match the first items (a README may shorten a list). Numbers: integers
 * exactly, others within 5 %. Strings: exactly, or by prefix when the README ends them with "…".
 */
export function differences(actual: unknown, expected: unknown, path = "$"): string[] {
  if (expected === null || typeof expected !== "object") {
    if (typeof expected === "number" && typeof actual === "number") {
      if (Number.isInteger(expected) && Number.isInteger(actual)) {
        return actual === expected ? [] : [`${path}: ${actual} ≠ ${expected}`];
      }
      return Math.abs(actual - expected) <= Math.abs(expected) * 0.05
        ? []
        : [`${path}: ${actual} not within 5% of ${expected}`];
    }
    if (typeof expected === "string" && expected.endsWith("…") && typeof actual === "string") {
      return actual.startsWith(expected.slice(0, -1))
        ? []
        : [`${path}: ${JSON.stringify(actual.slice(0, 60))} does not start with ${JSON.stringify(expected)}`];
    }
    return Object.is(actual, expected)
      ? []
      : [`${path}: ${JSON.stringify(actual)?.slice(0, 200)} ≠ ${JSON.stringify(expected)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: not an array`];
    if (actual.length < expected.length)
      return [`${path}: ${actual.length} items, the README shows ${expected.length}`];
    return expected.flatMap((e, i) => differences(actual[i], e, `${path}[${i}]`));
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return [`${path}: not an object`];
  return Object.entries(expected).flatMap(([k, v]) => {
    if (!(k in actual)) return [`${path}.${k}: missing`];
    return ignored(k) ? [] : differences((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  });
}

/** A reply with the keys that may differ between two runs removed (for comparing targets exactly). */
export function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !ignored(k))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

/** What a README command printed. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A folder holding a `flash` command that runs this checkout's cli.ts (the READMEs call the installed binary). */
let binDir: string | undefined;
function flashBin(): string {
  if (binDir) return binDir;
  binDir = mkdtempSync(join(tmpdir(), "flash-readme-bin-"));
  const cli = join(dirname(dirname(import.meta.dir)), "cli.ts");
  writeFileSync(join(binDir, "flash"), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, { mode: 0o755 });
  return binDir;
}

/** Remove the `flash` shim folder once a file's tests are done (a --no-isolate worker runs other files after it). */
function removeFlashBin(): void {
  if (binDir) rmSync(binDir, { recursive: true, force: true });
  binDir = undefined;
}

/** A free TCP port (for a README command that starts its own server on a fixed one, like `flash emulator`). */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/**
 * Run a README command with bash in `cwd`, pointed at 127.0.0.1:`port` instead of localhost:8888 (and at a free port
 * instead of the emulator's localhost:8899), in its own process group, ended with everything it left running.
 */
export async function runCommand(command: string, port: number, cwd: string): Promise<CommandResult> {
  const script = command.replaceAll("localhost:8888", `127.0.0.1:${port}`).replace(/\b8899\b/g, String(freePort()));
  const proc = Bun.spawn(["setsid", "bash", "-c", script], {
    cwd,
    env: { ...process.env, PATH: `${flashBin()}:${process.env.PATH}`, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  try {
    process.kill(-proc.pid, "SIGTERM");
  } catch {}
  return { code, stdout, stderr };
}

/**
 * Run a README block that prepares something in the background (an emulator with an endpoint to call) and exports
 * settings: `names` are read back from the shell after it ran. Returns them and a stop that ends what it started.
 */
export async function runSetupBlock(
  command: string,
  names: string[],
  cwd: string,
): Promise<{ env: Record<string, string>; stop: () => void }> {
  const echo = names.map((n) => `echo "${n}=$${n}"`).join("\n");
  const proc = Bun.spawn(
    ["setsid", "bash", "-c", `set -e\n${command.replace(/\b8899\b/g, String(freePort()))}\n${echo}`],
    {
      cwd,
      env: { ...process.env, PATH: `${flashBin()}:${process.env.PATH}`, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const stop = () => {
    try {
      process.kill(-proc.pid, "SIGTERM");
    } catch {}
  };
  if (code !== 0) {
    stop();
    throw new Error(`the README's setup block failed (exit ${code}):\n${stderr.slice(-2000)}`);
  }
  const env = Object.fromEntries(
    stdout
      .split("\n")
      .map((line) => line.match(/^([A-Z_]+)=(.*)$/))
      .filter((m): m is RegExpMatchArray => !!m && names.includes(m[1]!))
      .map((m) => [m[1]!, m[2]!]),
  );
  return { env, stop };
}

/** The targets a README suite runs on. */
export type TargetName = "local" | "emulator";

/** Options of a README suite. */
export interface ReadmeSuiteOptions {
  /** How many requests the README has at least. */
  minExamples: number;
  /** Requests this machine cannot reproduce (facts of the machine, like ffmpeg being installed). */
  skip?: (request: ReadmeRequest) => boolean;
  /** Files of the example folder the commands read (they run from a temp copy, "from this example's folder"). */
  files?: string[];
  /** Check a request that documents no JSON (a file written with --output…), in the folder the command ran in. */
  check?: (request: ReadmeRequest, result: CommandResult, cwd: string) => void | Promise<void>;
  /** Default: both. */
  targets?: TargetName[];
  /** Per-test timeout, ms (the first call on the emulator starts a worker subprocess). Default 60 s. */
  timeoutMs?: number;
  /** Emulator target: local commands standing in for custom images (`flash emulator --image img=cmd`), run from the repository root. */
  images?: Record<string, string | string[]>;
  /** Runs before the suite (an environment the README assumes, e.g. an endpoint to call); returns its teardown. */
  setup?: () => Promise<() => Promise<void>>;
}

/** A target for one run; each starts with empty network volumes (a temp folder), so answers do not depend on earlier runs. */
function makeTarget(
  name: TargetName,
  root: string,
  volumesDir: string,
  images?: Record<string, string | string[]>,
): Target {
  return name === "local" ? new LocalTarget({ volumesDir }) : new OfflineEmulatorTarget(root, volumesDir, images);
}

/** Register the README tests of the example folder `dir` (use `import.meta.dir` in the example's readme.test.ts). */
export async function readmeSuite(dir: string, options: ReadmeSuiteOptions): Promise<void> {
  const root = dirname(dirname(dir));
  const scope = { category: basename(dirname(dir)), example: basename(dir) };
  const all = readmeRequests(await Bun.file(join(dir, "README.md")).text());
  const requests = options.skip ? all.filter((r) => !options.skip!(r)) : all;
  const timeout = options.timeoutMs ?? 60_000;
  const firstAnswers = new Map<number, unknown>();

  // A deploy block (`flash deploy` to its own `flash emulator`, from the repository root) belongs to the deploy tier.
  const deployBlocks = requests.filter((r) => /\bflash deploy\b/.test(r.command));
  const title = (request: ReadmeRequest) => request.command.split("\n")[0]!.slice(0, 110);

  /** Run `request` on the server at `port` (from `cwd`) and check its answer against the README's. */
  const check = async (request: ReadmeRequest, port: number, cwd: string): Promise<unknown> => {
    const result = await runCommand(request.command, port, cwd);
    if (result.code !== 0) throw new Error(`exit ${result.code}:\n${result.stderr.slice(-3000)}`);
    expect(result.code).toBe(0);
    if (request.expectedText !== undefined) {
      // A stream documented as text: the output as the README shows it, the same on every target.
      expect(result.stdout.trim()).toBe(request.expectedText);
      return undefined;
    }
    if (request.expected === undefined) {
      await options.check?.(request, result, cwd);
      return undefined;
    }
    const answer = JSON.parse(result.stdout);
    expect(differences(answer, request.expected)).toEqual([]);
    return answer;
  };

  if (DEPLOY_TIER) {
    afterAll(removeFlashBin);
    describe("README deploy blocks (bun run test:deploy)", () => {
      for (const request of deployBlocks) test(title(request), () => check(request, 0, root).then(() => {}), timeout);
    });
    return;
  }

  let teardown: (() => Promise<void>) | undefined;
  if (options.setup) {
    beforeAll(async () => {
      teardown = await options.setup!();
    });
    afterAll(async () => {
      await teardown?.();
    });
  }

  readmeCommandSuite(join(dir, "README.md"), { cwd: root });

  test("the README has curl examples", () => {
    expect(requests.length).toBeGreaterThanOrEqual(options.minExamples);
  });

  for (const [n, targetName] of (options.targets ?? ["local", "emulator"]).entries()) {
    describe(`README on --target ${targetName}`, () => {
      let target: Target;
      let app: UnifiedApp;
      let server: ReturnType<typeof Bun.serve>;
      let cwd: string;

      beforeAll(async () => {
        cwd = mkdtempSync(join(tmpdir(), "flash-readme-"));
        target = makeTarget(targetName, root, join(cwd, ".volumes"), options.images);
        setTarget(target);
        app = await buildApp({ root, scope });
        server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => app.fetch(req) });
        for (const f of options.files ?? []) copyFileSync(join(dir, f), join(cwd, basename(f)));
      });
      afterAll(async () => {
        await server?.stop(true);
        await target?.shutdown();
        setTarget(new LocalTarget()); // the next file a --no-isolate worker runs gets the default target back
        rmSync(cwd, { recursive: true, force: true });
      });

      for (const [i, request] of requests.entries()) {
        if (deployBlocks.includes(request)) {
          if (n === 0) test.skip(`${title(request)} — ${RUNS_IN_DEPLOY_TIER}`, () => {});
          continue;
        }
        test(
          title(request),
          async () => {
            const answer = await check(request, server.port!, cwd);
            if (answer === undefined) return;
            if (n === 0) firstAnswers.set(i, answer);
            else if (firstAnswers.has(i)) expect(stable(answer)).toEqual(stable(firstAnswers.get(i)));
          },
          timeout,
        );
      }
    });
  }
}

/**
 * A shell command of a README other than a curl: what the harness does with it. `server` starts flash and stays up
 * for the commands after it (as "in another terminal"); `script` runs to completion; `skip` says why it cannot run in
 * a test.
 */
export interface ReadmeCommand {
  line: string;
  kind: "script" | "server" | "skip";
  reason?: string;
}

/** Commands a test leaves alone, with the reason (a README marks a line that needs a Runpod key with "needs"). */
const SKIPPED: [RegExp, string][] = [
  [/#.*\bneeds\b/, "marked in the README: needs something a test cannot have (a Runpod API key)"],
  [/^bun install\b/, "installs the workspace's packages: this test runs inside that install"],
  [/^(bun|flash) test\b/, "runs the test suite that this test is part of"],
  [/^sudo\b/, "needs root and the network"],
  [/^docker\b/, "needs Docker and a registry"],
];

/** The command of a line: its `# comment` removed, `\`-continued lines joined. */
function commandOf(line: string): string {
  return line.replace(/\s+#(?![^'"]*['"]).*$/, "").trim();
}

/** Every shell command of a README's bash blocks that is not a curl (or a line of a block that runs curl). */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  for (const m of markdown.matchAll(/```(bash|sh|shell)\n([\s\S]*?)```/g)) {
    const body = m[2]!.replace(/\\\n\s*/g, " ");
    if (/\bcurl /.test(body)) continue;
    for (const raw of body.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const skip = SKIPPED.find(([re]) => re.test(line));
      if (skip) out.push({ line, kind: "skip", reason: skip[1] });
      else if (/(^|&& )(bun run (flash run|dev)|flash run)\b/.test(commandOf(line))) out.push({ line, kind: "server" });
      else out.push({ line, kind: "script" });
    }
  }
  return out;
}

/** A process group started by a command (killed as a group: `bun run` and flash's workers included). */
function spawnGroup(command: string, cwd: string, env: Record<string, string>) {
  const script = command.split("\n").map(commandOf).join("\n");
  return Bun.spawn(["setsid", "bash", "-c", script], {
    cwd,
    env: { ...process.env, PATH: `${flashBin()}:${process.env.PATH}`, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

/**
 * Read a stream until `pattern` matches (resolves with the match) or the stream ends (rejects with the output); the
 * rest of the stream is read and dropped, so the process never blocks on a full pipe.
 */
function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder();
    let seen = "";
    let found = false;
    void (async () => {
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        if (found) continue;
        seen += decoder.decode(r.value);
        const m = seen.match(pattern);
        if (m) {
          found = true;
          resolve(m);
        }
      }
      if (!found) reject(new Error(`the command ended without printing ${pattern}:\n${seen.slice(-2000)}`));
    })();
  });
}

/** A server command, running: its URL, and a stop that ends its process group. */
async function startServerCommand(line: string, cwd: string) {
  // `exec 2>&1`: flash logs to both streams; one pipe keeps them in order.
  const proc = spawnGroup(`exec 2>&1\n${line}`, cwd, { FLASH_PORT: "0", FLASH_HOST: "127.0.0.1", NO_COLOR: "1" });
  const stop = async () => {
    try {
      process.kill(-proc.pid, "SIGINT");
    } catch {}
    await proc.exited;
  };
  try {
    const m = await waitForLine(proc.stdout, /flash serving .* at (http:\/\/\S+)/);
    return { url: m[1]!, stop, exited: proc.exited };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Register a test per shell command of the README at `readme` (curls aside: `readmeSuite` runs those). Commands run
 * in order from `cwd` (the repository root, where the READMEs say to run them): a server command starts flash on a free
 * port and must serve `/docs`; the commands after it get its URL as `FLASH_URL`; a script must exit 0 (and `check`,
 * when given, may look at its output); a skipped command is listed with its reason.
 */
export function readmeCommandSuite(
  readme: string,
  options: { cwd?: string; check?: (command: ReadmeCommand, result: CommandResult) => void } = {},
): void {
  const root = dirname(dirname(import.meta.dir));
  const cwd = options.cwd ?? root;
  const commands = readmeCommands(readFileSync(readme, "utf8"));
  afterAll(removeFlashBin); // after every test of the file: readmeSuite's curls run after these commands
  describe(`README commands (${readme.slice(root.length + 1)})`, () => {
    let server: Awaited<ReturnType<typeof startServerCommand>> | undefined;
    afterAll(async () => {
      await server?.stop();
    });
    for (const command of commands) {
      if (command.kind === "skip") {
        test.skip(`${command.line} — skipped: ${command.reason}`, () => {});
        continue;
      }
      test(command.line, async () => {
        if (command.kind === "server") {
          await server?.stop();
          server = await startServerCommand(command.line, cwd);
          const docs = await fetch(`${server.url}/docs`);
          expect(docs.status).toBe(200);
          return;
        }
        // A command that writes a file of the checkout (`cp .env.example .env`) runs in a temp copy of what it reads.
        const copy = commandOf(command.line).match(/^cp (\S+) (\S+)$/);
        const where = copy ? mkdtempSync(join(tmpdir(), "flash-readme-cmd-")) : cwd;
        if (copy) {
          mkdirSync(join(where, dirname(copy[1]!)), { recursive: true });
          copyFileSync(join(cwd, copy[1]!), join(where, copy[1]!));
        }
        // A benchmark runs every path once (BENCH_N=1): the test proves it runs, its figures are for a person.
        const proc = spawnGroup(command.line, where, { BENCH_N: "1", ...(server ? { FLASH_URL: server.url } : {}) });
        const [stdout, stderr, code] = await Promise.all([
          new Response(proc.stdout).text(),
          new Response(proc.stderr).text(),
          proc.exited,
        ]);
        if (copy) {
          expect(existsSync(join(where, copy[2]!))).toBe(true);
          rmSync(where, { recursive: true, force: true });
        }
        if (code !== 0) throw new Error(`exit ${code}:\n${stderr.slice(-3000)}\n${stdout.slice(-1000)}`);
        options.check?.(command, { code, stdout, stderr });
      }, 120_000);
    }
  });
}
