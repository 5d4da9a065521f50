/**
 * Runpod client against the local emulator: client overhead per job (ms, p50/p99) for a no-op function, in both
 * dispatch modes, and throughput (jobs/s) with 1 and 2 emulated workers.
 *
 *   bun bench/runpod.ts [--jobs 200] [--seconds 4]
 *
 * Overhead = wall time of `submitAndWait` minus the job's executionTime reported by the platform, i.e. what the
 * client, HTTP, the emulator's queue and the worker's job-take/job-done add around the function itself.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../core/emulator/server";
import { setLogLevel } from "../core/base/log";
import { CpuLiveServerless } from "../core/remote/config";
import { RunpodTarget } from "../core/runpod/runpod-target";
import type { ShippedCall } from "../core/runpod/api";

const { values } = parseArgs({
  options: { jobs: { type: "string", default: "200" }, seconds: { type: "string", default: "4" } },
});
const JOBS = Number(values.jobs);
const SECONDS = Number(values.seconds);
setLogLevel("quiet");

const tmp = mkdtempSync(join(tmpdir(), "flash-bench-runpod-"));
const root = join(tmp, "ws");
cpSync(resolve(import.meta.dir, "../test/fixtures/runpod/ws"), root, { recursive: true });
const key = `bench_${crypto.randomUUID()}`;
const em = startEmulator({ apiKey: key, workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache") } } });
const target = new RunpodTarget({
  name: "emulator",
  apiKey: key,
  root,
  statePath: join(tmp, "state.json"),
  urls: { apiBaseUrl: em.apiBaseUrl, endpointBaseUrl: em.endpointBaseUrl, lbBaseUrl: em.lbBaseUrl },
});

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const f = (n: number) => n.toFixed(2);

async function shipped(name: string, args: unknown[]): Promise<ShippedCall> {
  const bundle = await target.bundler.bundle(join(root, "01_demo/01_basic/cpu_worker.ts"));
  return { flash: 1, bundle, request: { module: bundle.path, name, executionType: "function", args } };
}

async function endpointWith(workers: number): Promise<string> {
  const cfg = new CpuLiveServerless({
    name: `bench_w${workers}`,
    workersMin: workers,
    workersMax: workers,
    idleTimeout: 60,
  });
  const { endpointId } = await target.provisioner.ensure(cfg);
  const deadline = Date.now() + 30_000;
  while (em.supervisor.counts(endpointId).idle < workers && Date.now() < deadline) {
    // Warm every worker (first import of the bundle) before measuring.
    await Promise.all(
      Array.from({ length: workers }, async () =>
        target.jobs.submitAndWait(endpointId, await shipped("hello", [{ name: "warm" }])),
      ),
    );
    await Bun.sleep(50);
  }
  return endpointId;
}

async function overhead(endpointId: string, mode: "poll" | "runsync"): Promise<void> {
  const call = await shipped("hello", [{ name: "x" }]);
  for (let i = 0; i < 20; i++) await target.jobs.submitAndWait(endpointId, call, { mode });
  const wall: number[] = [];
  const over: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const t0 = performance.now();
    const job = await target.jobs.submitAndWait(endpointId, call, { mode });
    const ms = performance.now() - t0;
    if (job.status !== "COMPLETED") throw new Error(`job ${job.id} ${job.status}`);
    wall.push(ms);
    over.push(ms - (job.executionTime ?? 0));
  }
  console.log(
    `  ${mode.padEnd(8)} wall p50 ${f(pct(wall, 50))} ms  p99 ${f(pct(wall, 99))} ms   overhead p50 ${f(pct(over, 50))} ms  p99 ${f(pct(over, 99))} ms   (${JOBS} sequential jobs)`,
  );
}

async function throughput(
  endpointId: string,
  workers: number,
  label: string,
  call: ShippedCall,
  concurrency = 16,
): Promise<void> {
  let done = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const job = await target.jobs.submitAndWait(endpointId, call, { mode: "runsync" });
        if (job.status !== "COMPLETED") throw new Error(`job ${job.id} ${job.status}`);
        done++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `  ${workers} worker${workers > 1 ? "s" : " "}  ${label.padEnd(14)} ${(done / secs).toFixed(1).padStart(7)} jobs/s  (${done} jobs in ${secs.toFixed(1)} s, ${concurrency} in flight)`,
  );
}

try {
  console.log(`flash Runpod client vs local emulator — bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs`);
  const one = await endpointWith(1);
  console.log("client overhead per job (no-op function, 1 worker):");
  await overhead(one, "poll");
  await overhead(one, "runsync");
  const two = await endpointWith(2);
  console.log("throughput:");
  const noop = await shipped("hello", [{ name: "x" }]);
  const nap20 = await shipped("nap", [20]);
  await throughput(one, 1, "no-op", noop);
  await throughput(two, 2, "no-op", noop);
  await throughput(one, 1, "20 ms sleep", nap20);
  await throughput(two, 2, "20 ms sleep", nap20);
} finally {
  await target.shutdown().catch(() => undefined);
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
}
