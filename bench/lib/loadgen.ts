/**
 * A load process for bench/reload.ts: `--connections` loops POST `--url` with `--body` until SIGTERM (or
 * `--seconds`), and count every request that did not answer 200 with `"status":"success"`.
 * Prints `ready` once the first request succeeded, then one JSON summary line when it stops.
 * After a failed request a loop waits `--backoff` ms, so a server that is down is not hammered in a hot loop
 * (the failure count of a restarting server therefore scales with its downtime: about connections × downtime / backoff).
 *
 *   bun bench/lib/loadgen.ts --url http://127.0.0.1:8888/x --body '{"message":"hi"}' [--connections 8] [--backoff 5]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    body: { type: "string", default: "{}" },
    connections: { type: "string", default: "8" },
    backoff: { type: "string", default: "5" },
    seconds: { type: "string", default: "0" },
  },
});
if (!values.url) throw new Error("--url is required");

/** What the load process counted. */
export interface LoadSummary {
  ok: number;
  failed: number;
  /** Failures by kind: `status 404`, `connection: ECONNREFUSED`, `body`, … */
  kinds: Record<string, number>;
  seconds: number;
  /** Longest stretch, in ms, during which no request succeeded (after the first success). */
  longestGapMs: number;
  /** Latency of successful requests, in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const url = values.url;
const body = values.body!;
const backoff = Number(values.backoff);
let stopping = false;
let ok = 0;
let failed = 0;
const kinds: Record<string, number> = {};
let ready = false;
let lastOk = 0;
let longestGapMs = 0;
const started = performance.now();
const latencies: number[] = [];

function fail(kind: string): void {
  failed++;
  kinds[kind] = (kinds[kind] ?? 0) + 1;
}

async function loop(): Promise<void> {
  while (!stopping) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status !== 200) {
        fail(`status ${res.status}`);
      } else if (!text.includes('"status":"success"')) {
        fail("body");
      } else {
        ok++;
        const now = performance.now();
        latencies.push(now - t0);
        if (lastOk) longestGapMs = Math.max(longestGapMs, now - lastOk);
        lastOk = now;
        if (!ready) {
          ready = true;
          console.log("ready");
        }
        continue;
      }
    } catch (err) {
      if (stopping) break;
      const e = err as { code?: string; name?: string };
      fail(`connection: ${e.code ?? e.name ?? "error"}`);
    }
    await Bun.sleep(backoff);
  }
}

function finish(): void {
  stopping = true;
}
process.on("SIGTERM", finish);
process.on("SIGINT", finish);
if (Number(values.seconds) > 0) setTimeout(finish, Number(values.seconds) * 1000);

await Promise.all(Array.from({ length: Number(values.connections) }, loop));
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
const summary: LoadSummary = {
  ok,
  failed,
  kinds,
  seconds: (performance.now() - started) / 1000,
  longestGapMs,
  p50Ms: at(0.5),
  p99Ms: at(0.99),
  maxMs: latencies[latencies.length - 1] ?? Number.NaN,
};
console.log(JSON.stringify(summary));
process.exit(0);
