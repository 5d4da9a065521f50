/**
 * Test harness for an example's README: every `curl` in its bash blocks is run for real (bash + curl, from a copy
 * of the files it names) against the unified app scoped to the example, served on a real port, once with remote
 * functions on the local pool (`--target local`) and once on the Runpod emulator (`--target emulator`). Each reply
 * must match the JSON the README documents, and the emulator's reply must equal the local one (values that change
 * per call aside).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { buildApp, type UnifiedApp } from "../../core/app/app";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget, type Target } from "../../core/remote/target";
import { OfflineEmulatorTarget } from "./emulator";

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

/** Run a README command with bash in `cwd`, pointed at 127.0.0.1:`port` instead of localhost:8888. */
export async function runCommand(command: string, port: number, cwd: string): Promise<CommandResult> {
  const proc = Bun.spawn(["bash", "-c", command.replaceAll("localhost:8888", `127.0.0.1:${port}`)], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
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
  /** Runs before the suite (an environment the README assumes, e.g. an endpoint to call); returns its teardown. */
  setup?: () => Promise<() => Promise<void>>;
}

/** A target for one run; each starts with empty network volumes (a temp folder), so answers do not depend on earlier runs. */
function makeTarget(name: TargetName, root: string, volumesDir: string): Target {
  return name === "local" ? new LocalTarget({ volumesDir }) : new OfflineEmulatorTarget(root, volumesDir);
}

/** Register the README tests of the example folder `dir` (use `import.meta.dir` in the example's readme.test.ts). */
export async function readmeSuite(dir: string, options: ReadmeSuiteOptions): Promise<void> {
  const root = dirname(dirname(dir));
  const scope = { category: basename(dirname(dir)), example: basename(dir) };
  const all = readmeRequests(await Bun.file(join(dir, "README.md")).text());
  const requests = options.skip ? all.filter((r) => !options.skip!(r)) : all;
  const timeout = options.timeoutMs ?? 60_000;
  const firstAnswers = new Map<number, unknown>();

  let teardown: (() => Promise<void>) | undefined;
  if (options.setup) {
    beforeAll(async () => {
      teardown = await options.setup!();
    });
    afterAll(async () => {
      await teardown?.();
    });
  }

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
        target = makeTarget(targetName, root, join(cwd, ".volumes"));
        setTarget(target);
        app = await buildApp({ root, scope });
        server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => app.fetch(req) });
        for (const f of options.files ?? []) copyFileSync(join(dir, f), join(cwd, basename(f)));
      });
      afterAll(async () => {
        await server?.stop(true);
        await target?.shutdown();
        rmSync(cwd, { recursive: true, force: true });
      });

      for (const [i, request] of requests.entries()) {
        const title = `${request.command.split("\n")[0]!.slice(0, 110)}`;
        test(
          title,
          async () => {
            const result = await runCommand(request.command, server.port!, cwd);
            expect(result.code).toBe(0);
            if (request.expectedText !== undefined) {
              // A stream documented as text: the output as the README shows it, the same on every target.
              expect(result.stdout.trim()).toBe(request.expectedText);
              return;
            }
            if (request.expected === undefined) {
              await options.check?.(request, result, cwd);
              return;
            }
            const answer = JSON.parse(result.stdout);
            expect(differences(answer, request.expected)).toEqual([]);
            if (n === 0) firstAnswers.set(i, answer);
            else if (firstAnswers.has(i)) expect(stable(answer)).toEqual(stable(firstAnswers.get(i)));
          },
          timeout,
        );
      }
    });
  }
}
