/**
 * Test harness for the examples' READMEs: find each `curl` example, run it for real (bash + curl) against a
 * `flash run` server, and compare the reply with the JSON block printed right after it in the README.
 */
import { Subprocess } from "bun";
import { resolve } from "node:path";

/** A curl example from a README and the JSON the README says it returns (when one follows it directly). */
export interface CurlExample {
  command: string;
  expected?: unknown;
}

/** Every fenced bash block that runs curl, paired with a fenced json block that follows it directly. */
export function curlExamples(markdown: string): CurlExample[] {
  const blocks = [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1],
    body: m[2]!,
    start: m.index!,
    end: m.index! + m[0].length,
  }));
  const out: CurlExample[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== "bash" || !/^curl /m.test(b.body)) return;
    const next = blocks[i + 1];
    const adjacent = next && next.lang === "json" && markdown.slice(b.end, next.start).trim() === "";
    out.push({ command: b.body.trim(), expected: adjacent ? JSON.parse(next.body) : undefined });
  });
  return out;
}

/** Keys whose values change from call to call; the README shows an example value, the reply is not compared. */
export const VOLATILE_KEYS = new Set(["timestamp", "synthesis_ms", "ocr_ms", "cold_start", "audio_base64"]);

/**
 * Where `actual` differs from what the README documents. Objects: every documented key must match (extra keys are
 * fine). Arrays: the documented items must match the first items (a README may shorten a list). Numbers: integers
 * exactly, others within 5 %. Strings: exactly, or by prefix when the README ends them with "…".
 */
export function differences(actual: unknown, expected: unknown, path = "$"): string[] {
  if (expected === null || typeof expected !== "object") {
    if (typeof expected === "number" && typeof actual === "number") {
      if (Number.isInteger(expected) && Number.isInteger(actual))
        return actual === expected ? [] : [`${path}: ${actual} ≠ ${expected}`];
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
    return VOLATILE_KEYS.has(k) ? [] : differences((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  });
}

/** A `flash run` server started for a test. */
export interface FlashServer {
  port: number;
  proc: Subprocess;
  stop(): Promise<void>;
}

/** Start `flash run --port 0` in `dir` (the repository's cli.ts), and resolve once it says where it listens. */
export async function startFlashRun(dir: string, timeoutMs = 30_000): Promise<FlashServer> {
  const cli = resolve(import.meta.dir, "..", "cli.ts");
  const proc = Bun.spawn([process.execPath, cli, "run", "--port", "0"], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const decoder = new TextDecoder();
  let seen = "";
  const reader = proc.stdout.getReader();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { value, done } = await Promise.race([
      reader.read(),
      Bun.sleep(deadline - Date.now()).then(() => ({ value: undefined, done: true })),
    ]);
    if (done) break;
    seen += decoder.decode(value);
    const m = /serving .* at http:\/\/[^:\s]+:(\d+)/.exec(seen);
    if (m) {
      reader.releaseLock();
      void proc.stdout.pipeTo(new WritableStream()).catch(() => undefined); // keep draining the log
      const port = Number(m[1]);
      return {
        port,
        proc,
        async stop() {
          proc.kill("SIGTERM");
          await proc.exited;
        },
      };
    }
  }
  proc.kill("SIGKILL");
  throw new Error(
    `flash run did not start in ${timeoutMs} ms; output:\n${seen}\n${await new Response(proc.stderr).text()}`,
  );
}

/** Run a README command with bash in `cwd`, pointed at `port` instead of 8888; returns exit code and stdout. */
export async function runExample(
  command: string,
  port: number,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["bash", "-c", command.replaceAll("localhost:8888", `localhost:${port}`)], {
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
