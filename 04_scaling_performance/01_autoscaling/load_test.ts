/**
 * A bounded load test for one strategy, over loopback against a running `flash run`: warm-up → burst → pause →
 * second burst. It reports each phase's latency (p50, p95, max), errors, and how many workers the strategy's pool
 * had (sampled from `/health` every 50 ms): scale-up during a burst, scale-down (to zero) during the pause.
 *
 *   bun 04_scaling_performance/01_autoscaling/load_test.ts --strategy cpu/scale-to-zero --requests 40 --concurrency 8
 */
import { parseArgs } from "node:util";
import { logger } from "flash";
import { STRATEGIES } from "./strategies";

/** Hard limits: this is a demonstration on your own machine, not a stress tool. */
export const LIMITS = { maxRequests: 1000, maxConcurrency: 64, maxPauseS: 120 } as const;

/** What to run. */
export interface LoadTestOptions {
  /** Base URL of `flash run` (default http://localhost:8888). */
  url: string;
  /** A strategy route without the leading slash: "cpu/scale-to-zero", "gpu/high-throughput", … */
  strategy: string;
  requests: number;
  concurrency: number;
  /** Seconds between the bursts (longer than the strategy's idleTimeout to see it scale down). */
  pauseS: number;
  matrixSize: number;
}

/** One phase's figures. `workers_*` are null when /health shows no local pool (e.g. `--target emulator`). */
export interface PhaseReport {
  phase: "warm-up" | "burst" | "pause" | "second burst";
  requests: number;
  errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
  max_ms: number | null;
  workers_start: number | null;
  workers_peak: number | null;
  workers_end: number | null;
}

/** The whole run. */
export interface LoadTestReport {
  strategy: string;
  pool: string;
  concurrency: number;
  phases: PhaseReport[];
}

/** The value at quantile `q` (0–1) of sorted numbers, by the nearest-rank method. */
export function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Check options against the limits and the known strategies; throws with a message a user can act on. */
export function checkOptions(o: LoadTestOptions): void {
  const routes = STRATEGIES.map((s) => s.route.slice(1));
  if (!routes.includes(o.strategy))
    throw new Error(`--strategy must be one of ${routes.join(", ")} (got ${o.strategy})`);
  const int = (v: number, lo: number, hi: number, name: string) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${name} must be a whole number from ${lo} to ${hi}`);
  };
  int(o.requests, 1, LIMITS.maxRequests, "--requests");
  int(o.concurrency, 1, LIMITS.maxConcurrency, "--concurrency");
  if (!(o.pauseS >= 0 && o.pauseS <= LIMITS.maxPauseS))
    throw new Error(`--pause must be 0 to ${LIMITS.maxPauseS} seconds`);
}

/** Workers of the strategy's pool right now, from /health (null when there is no local pool of that name). */
async function poolWorkers(url: string, pool: string): Promise<number | null> {
  try {
    const health = (await (await fetch(`${url}/health`)).json()) as {
      local?: { pools?: { name: string; workers: { total: number } }[] };
    };
    return health.local?.pools?.find((p) => p.name === pool)?.workers.total ?? (health.local ? 0 : null);
  } catch {
    return null;
  }
}

/** Sample the pool's worker count every 50 ms until `stop()`; returns start, peak and end. */
function sampleWorkers(url: string, pool: string) {
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const n = await poolWorkers(url, pool);
      if (n !== null) seen.push(n);
      await Bun.sleep(50);
    }
  })();
  return async () => {
    running = false;
    await loop;
    const end = await poolWorkers(url, pool);
    if (end !== null) seen.push(end);
    return seen.length
      ? { workers_start: seen[0]!, workers_peak: Math.max(...seen), workers_end: seen[seen.length - 1]! }
      : { workers_start: null, workers_peak: null, workers_end: null };
  };
}

/** Send `total` requests with at most `concurrency` in flight; collect each latency and count errors. */
async function burst(o: LoadTestOptions, total: number, concurrency: number) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const one = async () => {
    while (next < total) {
      next++;
      const started = performance.now();
      try {
        const res = await fetch(`${o.url}/04_scaling_performance/01_autoscaling/${o.strategy}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ matrix_size: o.matrixSize }),
        });
        await res.arrayBuffer();
        if (!res.ok) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, one));
  const sorted = latencies.sort((a, b) => a - b);
  const r = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    requests: total,
    errors,
    p50_ms: r(quantile(sorted, 0.5)),
    p95_ms: r(quantile(sorted, 0.95)),
    max_ms: r(sorted.at(-1) ?? null),
  };
}

/** Run the four phases and return the report. */
export async function runLoadTest(o: LoadTestOptions): Promise<LoadTestReport> {
  checkOptions(o);
  const pool = STRATEGIES.find((s) => s.route.slice(1) === o.strategy)!.config.name;
  const phases: PhaseReport[] = [];
  const measured = async (
    phase: PhaseReport["phase"],
    work: () => Promise<Omit<PhaseReport, "phase" | `workers_${string}`>>,
  ) => {
    const stop = sampleWorkers(o.url, pool);
    const figures = await work();
    phases.push({ phase, ...figures, ...(await stop()) });
  };
  await measured("warm-up", () => burst(o, 1, 1));
  await measured("burst", () => burst(o, o.requests, o.concurrency));
  await measured("pause", async () => {
    await Bun.sleep(o.pauseS * 1000);
    return { requests: 0, errors: 0, p50_ms: null, p95_ms: null, max_ms: null };
  });
  await measured("second burst", () => burst(o, o.requests, o.concurrency));
  return { strategy: o.strategy, pool, concurrency: o.concurrency, phases };
}

/** The report as an aligned text table. */
export function formatReport(report: LoadTestReport): string {
  const head = ["phase", "requests", "errors", "p50 ms", "p95 ms", "max ms", "workers start→peak→end"];
  const rows = report.phases.map((p) => [
    p.phase,
    String(p.requests),
    String(p.errors),
    String(p.p50_ms ?? "–"),
    String(p.p95_ms ?? "–"),
    String(p.max_ms ?? "–"),
    p.workers_peak === null ? "n/a (no local pool)" : `${p.workers_start}→${p.workers_peak}→${p.workers_end}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [
    `${report.strategy} (pool ${report.pool}, concurrency ${report.concurrency})`,
    line(head),
    ...rows.map(line),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.FLASH_URL ?? "http://localhost:8888" },
      strategy: { type: "string", default: "cpu/scale-to-zero" },
      requests: { type: "string", default: "40" },
      concurrency: { type: "string", default: "8" },
      pause: { type: "string", default: "3" },
      "matrix-size": { type: "string", default: "128" },
    },
  });
  const log = logger("load_test");
  try {
    const report = await runLoadTest({
      url: values.url!.replace(/\/$/, ""),
      strategy: values.strategy!,
      requests: Number(values.requests),
      concurrency: Number(values.concurrency),
      pauseS: Number(values.pause),
      matrixSize: Number(values["matrix-size"]),
    });
    log.log(formatReport(report));
  } catch (err) {
    log.error((err as Error).message);
    process.exit(1);
  }
  process.exit(0);
}
