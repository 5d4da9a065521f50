/**
 * Throughput against latency for a few batch windows, over loopback against a running `flash run`: for each window,
 * `--requests` POST /detect requests from `--concurrency` clients in a closed loop (each sends its next request when
 * its last one answered). It prints requests per second, p50/p95 latency, and the mean batch size.
 *
 *   bun 04_scaling_performance/03_batching/loadtest.ts --windows 0,5,20 --requests 400 --concurrency 32
 */
import { parseArgs } from "node:util";
import { logger } from "flash";
import { LIMITS } from "./cpu_worker";

const ROUTE = "/04_scaling_performance/03_batching/cpu/detect";
const TEXTS = [
  "Good morning, how are you today?",
  "Guten Morgen, wie geht es Ihnen?",
  "Où est la gare, s'il vous plaît ?",
  "Buenos días, ¿cómo estás?",
  "Buongiorno, come stai oggi?",
];

/** One window's figures. */
export interface WindowReport {
  window_ms: number;
  requests: number;
  errors: number;
  per_second: number;
  p50_ms: number;
  p95_ms: number;
  mean_batch: number;
}

/** The value at quantile `q` of sorted numbers (nearest rank). */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** Run `requests` requests for one window with `concurrency` clients. */
async function runWindow(url: string, windowMs: number, requests: number, concurrency: number): Promise<WindowReport> {
  const latencies: number[] = [];
  let batchSum = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < requests) {
      const i = next++;
      const t0 = performance.now();
      try {
        const res = await fetch(url + ROUTE, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: TEXTS[i % TEXTS.length], window_ms: windowMs }),
        });
        const body = (await res.json()) as { batch_size?: number };
        if (!res.ok) throw new Error(String(res.status));
        latencies.push(performance.now() - t0);
        batchSum += body.batch_size ?? 1;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    window_ms: windowMs,
    requests,
    errors,
    per_second: Math.round(latencies.length / seconds),
    p50_ms: round(quantile(latencies, 0.5)),
    p95_ms: round(quantile(latencies, 0.95)),
    mean_batch: round(batchSum / Math.max(1, latencies.length)),
  };
}

/** The reports as a Markdown table. */
export function formatTable(reports: WindowReport[]): string {
  const rows = reports.map(
    (r) =>
      `| ${r.window_ms} ms | ${r.requests} | ${r.errors} | ${r.per_second} | ${r.p50_ms} | ${r.p95_ms} | ${r.mean_batch} |`,
  );
  return [
    "| window | requests | errors | requests/s | p50 ms | p95 ms | mean batch |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.FLASH_URL ?? "http://localhost:8888" },
      windows: { type: "string", default: "0,5,20" },
      requests: { type: "string", default: "400" },
      concurrency: { type: "string", default: "32" },
    },
  });
  const log = logger("loadtest");
  const windows = values.windows!.split(",").map(Number);
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const bad =
    windows.find((w) => !Number.isInteger(w) || w < 0 || w > LIMITS.maxWindowMs) !== undefined
      ? `--windows must be whole numbers from 0 to ${LIMITS.maxWindowMs}`
      : !Number.isInteger(requests) || requests < 1 || requests > 5000
        ? "--requests must be a whole number from 1 to 5000"
        : !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 128
          ? "--concurrency must be a whole number from 1 to 128"
          : "";
  if (bad) {
    log.error(bad);
    process.exit(1);
  }
  const url = values.url!.replace(/\/$/, "");
  // Warm up: start the model's workers and load the model, so the first window does not pay the cold start.
  await runWindow(url, 0, Math.min(20, requests), Math.min(4, concurrency));
  const reports: WindowReport[] = [];
  for (const w of windows) reports.push(await runWindow(url, w, requests, concurrency));
  log.log(`POST ${ROUTE}, ${concurrency} concurrent clients\n${formatTable(reports)}`);
  process.exit(0);
}
