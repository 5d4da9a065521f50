/**
 * Runpod client and worker against the local emulator:
 * - worker program start → first job-take (ms, median of 5): the bundled program as shipped to stock images (and
 *   as the Dockerfiles build it), the bootstrap with the program cached, and the program from source; the peer is
 *   `python3 -c "import runpod"` when runpod-python is installed (the reference: 1.3 s on this machine class);
 * - the bytes a call sends the first and the second time (default image: worker program + bundle, then hashes);
 * - client overhead per job (ms, p50/p99) for a no-op function with /runsync and with /run + /status;
 * - throughput (jobs/s) with 1 and 2 emulated workers.
 *
 *   bun bench/runpod.ts [--jobs 200] [--seconds 4]
 *
 * Overhead = wall time of `submitAndWait` minus the job's executionTime reported by the platform, i.e. what the
 * client, HTTP, the emulator's queue and the worker's job-take/job-done add around the function itself.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../core/emulator/server";
import { setLogLevel } from "../core/base/log";
import { CpuLiveServerless } from "../core/remote/config";
import { RunpodTarget } from "../core/runpod/runpod-target";
import type { ShippedCall } from "../core/runpod/api";
import { workerProgram } from "../core/runpod/worker-program";
import { cpuSeconds } from "./lib/proc";
import { median, percentile } from "./lib/stats";

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

const f = (n: number) => n.toFixed(2);

/** A shipped call with the code (first call to a worker) or by hash only (every later call). */
async function shipped(name: string, args: unknown[], withCode = true): Promise<ShippedCall> {
  const { code, ...byHash } = await target.bundler.bundle(join(root, "01_demo/01_basic/cpu_worker.ts"));
  const program = await workerProgram();
  return {
    flash: 1,
    worker: withCode ? program : { hash: program.hash },
    bundle: withCode ? { ...byHash, code } : byHash,
    request: { module: byHash.path, name, executionType: "function", args },
  };
}

/**
 * From spawning `cmd` to its first job-take request (a local server stands in for Runpod's job URLs): wall ms, and
 * the CPU ms the worker used until then (which a loaded machine does not inflate).
 */
async function startToFirstTake(
  cmd: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ wall: number; cpu: number }> {
  let took!: (t: { wall: number; cpu: number }) => void;
  const first = new Promise<{ wall: number; cpu: number }>((r) => (took = r));
  let pid = 0;
  let t0 = 0;
  let seen = false;
  const server = Bun.serve({
    port: 0,
    fetch(req) {
      if (!seen && new URL(req.url).pathname.includes("/job-take/")) {
        seen = true;
        took({ wall: performance.now() - t0, cpu: cpuSeconds(pid) * 1000 });
      }
      return new Response(null, { status: 204 });
    },
  });
  const base = `http://127.0.0.1:${server.port}/v2/bench`;
  t0 = performance.now();
  const proc = Bun.spawn(cmd, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: tmp,
      FLASH_WORKER_MODE: "queue",
      FLASH_WORKER_CACHE: join(tmp, "start-cache"),
      RUNPOD_POD_ID: "bench",
      RUNPOD_WEBHOOK_GET_JOB: `${base}/job-take/$ID?gpu=CPU`,
      RUNPOD_WEBHOOK_POST_OUTPUT: `${base}/job-done/$RUNPOD_POD_ID/$ID?gpu=CPU`,
      ...extraEnv,
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  pid = proc.pid;
  try {
    return await Promise.race([first, Bun.sleep(30_000).then(() => ({ wall: Number.NaN, cpu: Number.NaN }))]);
  } finally {
    proc.kill();
    await proc.exited;
    server.stop(true);
  }
}

async function startup(): Promise<void> {
  const program = await workerProgram();
  const programDir = join(tmp, "start-cache", "program", program.hash);
  mkdirSync(programDir, { recursive: true });
  for (const [name, code] of Object.entries(program.files)) writeFileSync(join(programDir, name), code);
  const programFile = join(programDir, "main.js");
  const bootstrap = resolve(import.meta.dir, "../worker/bootstrap.js");
  const runs = async (cmd: string[], env: Record<string, string> = {}) => {
    const xs: { wall: number; cpu: number }[] = [];
    for (let i = 0; i < 5; i++) xs.push(await startToFirstTake(cmd, env));
    return { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) };
  };
  const line = (label: string, ms: { wall: number; cpu: number }) =>
    console.log(`  ${label.padEnd(52)} wall ${f(ms.wall).padStart(8)} ms   cpu ${ms.cpu.toFixed(0).padStart(4)} ms`);
  console.log(`worker program start → first job-take (median of 5; load average ${loadavg()[0]!.toFixed(1)}):`);
  line(
    "floor: bun -e 'fetch(job-take)' (the runtime alone)",
    await runs([
      process.execPath,
      "-e",
      "await Bun.sleep(0); await fetch(process.env.RUNPOD_WEBHOOK_GET_JOB.replace('$ID','x'))",
    ]),
  );
  line("worker program main.js (as shipped; Dockerfile build)", await runs([process.execPath, programFile]));
  line(
    "bootstrap, program cached (stock image, warm disk)",
    await runs([process.execPath, bootstrap], { FLASH_WORKER_HASH: program.hash }),
  );
  line(
    "program from source (bun worker/main.ts)",
    await runs([process.execPath, resolve(import.meta.dir, "../worker/main.ts")]),
  );
  const t0 = performance.now();
  const py = Bun.spawnSync(["python3", "-c", "import runpod"], { stdout: "ignore", stderr: "ignore" });
  const pyMs = performance.now() - t0;
  if (py.exitCode === 0) line('peer: python3 -c "import runpod"', { wall: pyMs, cpu: Number.NaN });
  else
    console.log(
      '  peer: python3 -c "import runpod"                     n/a here (runpod not installed); issue reference 1300 ms',
    );
}

async function bytesPerCall(): Promise<void> {
  const cfg = new CpuLiveServerless({ name: "bench_bytes", workersMax: 1, idleTimeout: 60 });
  const hello = {
    config: cfg,
    module: join(root, "01_demo/01_basic/cpu_worker.ts"),
    name: "hello",
    executionType: "function" as const,
    options: {},
  };
  const req = {
    module: hello.module,
    name: "hello",
    executionType: "function" as const,
    args: [{ name: "x" }],
  };
  const sizes: number[] = [];
  for (let i = 0; i < 2; i++) {
    const before = target.bytesSent;
    const res = await target.call(hello, req);
    if (!res.success) throw new Error(`bytes call failed: ${res.error?.message}`);
    sizes.push(target.bytesSent - before);
  }
  console.log("bytes a call sends (default image: worker program + bundle once, then hashes):");
  console.log(`  first call ${sizes[0]} B   second call ${sizes[1]} B`);
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
        target.jobs.submitAndWait(endpointId, await shipped("hello", [{ name: "warm" }], true)),
      ),
    );
    await Bun.sleep(50);
  }
  return endpointId;
}

async function overhead(endpointId: string, mode: "poll" | "runsync"): Promise<void> {
  const call = await shipped("hello", [{ name: "x" }], false);
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
    `  ${mode.padEnd(8)} wall p50 ${f(percentile(wall, 50))} ms  p99 ${f(percentile(wall, 99))} ms   overhead p50 ${f(percentile(over, 50))} ms  p99 ${f(percentile(over, 99))} ms   (${JOBS} sequential jobs)`,
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
  await startup();
  await bytesPerCall();
  const one = await endpointWith(1);
  console.log("client overhead per job (no-op function, 1 worker; /run + /status = poll):");
  await overhead(one, "poll");
  await overhead(one, "runsync");
  const two = await endpointWith(2);
  console.log("throughput:");
  const noop = await shipped("hello", [{ name: "x" }], false);
  const nap20 = await shipped("nap", [20], false);
  await throughput(one, 1, "no-op", noop);
  await throughput(two, 2, "no-op", noop);
  await throughput(one, 1, "20 ms sleep", nap20);
  await throughput(two, 2, "20 ms sleep", nap20);
} finally {
  await target.shutdown().catch(() => undefined);
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
}
