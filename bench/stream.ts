// Benchmark of streamed remote calls (generator functions) on the CPU: latency to the first chunk and the cost
// per chunk, on a thread worker, a subprocess worker and the Runpod emulator (job-stream posts + /stream reads),
// next to the same generator iterated in-process (the peer: no worker, no wire).
// Run: bun bench/stream.ts   (prints figures; workers import this file, so the benchmark runs only as main)
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CpuLiveServerless, remote } from "../core";
import { startEmulator } from "../core/emulator/server";
import { EmulatorTarget } from "../core/emulator/emulator-target";
import { LocalTarget } from "../core/remote/local/local-target";
import { setTarget, type Target } from "../core/remote/target";
import { percentile } from "./lib/stats";

const cpu = new CpuLiveServerless({ name: "bench_stream_cpu", workersMin: 0, workersMax: 1, idleTimeout: 60 });

/** Yields `n` small chunks as fast as it can. */
async function* plainTicks(n: number) {
  for (let i = 0; i < n; i++) yield { i, token: "word" };
}
/** The streamed remote form of the same generator. */
export const ticks = remote(cpu, plainTicks);

/** First-chunk latency (median of `runs` streams of one chunk) and per-chunk cost over an `n`-chunk stream. */
async function measure(
  make: (n: number) => AsyncIterable<unknown>,
  runs: number,
  n: number,
): Promise<{ first: number; perChunk: number }> {
  for await (const _ of make(3)); // warm: the worker is started, the module imported, the code shipped
  const firsts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for await (const _ of make(1)) firsts.push(performance.now() - t0);
  }
  const t0 = performance.now();
  let count = 0;
  for await (const _ of make(n)) count++;
  const total = performance.now() - t0;
  return { first: percentile(firsts, 50), perChunk: total / count };
}

function line(name: string, r: { first: number; perChunk: number }, n: number): void {
  console.log(
    `  ${name.padEnd(30)} first chunk ${r.first.toFixed(2).padStart(8)} ms   per chunk ${(r.perChunk * 1000).toFixed(1).padStart(8)} µs (${n} chunks)`,
  );
}

async function withTarget<T>(target: Target, fn: () => Promise<T>): Promise<T> {
  setTarget(target);
  try {
    return await fn();
  } finally {
    await target.shutdown();
  }
}

async function main(): Promise<void> {
  console.log("streamed remote calls on this machine's CPU (warm worker; median first-chunk latency of 20 streams):");
  line("peer: in-process generator", await measure(plainTicks, 20, 10_000), 10_000);
  const thread = await withTarget(new LocalTarget({ workerKind: "thread" }), () => measure(ticks, 20, 10_000));
  line("local, thread worker", thread, 10_000);
  const proc = await withTarget(new LocalTarget({ workerKind: "process" }), () => measure(ticks, 20, 10_000));
  line("local, subprocess worker", proc, 10_000);
  // The worker cache sits inside the repository (.flash/ is gitignored): this module imports ../core, not "flash", so
  // its bundle leaves core's packages (@sinclair/typebox…) to be found in a node_modules above it, and workers run
  // with `bun --no-install` (nothing is fetched from npm).
  mkdirSync(join(import.meta.dir, "..", ".flash"), { recursive: true });
  const tmp = realpathSync(mkdtempSync(join(import.meta.dir, "..", ".flash", "bench-stream-")));
  const apiKey = `emu_${crypto.randomUUID().replaceAll("-", "")}`;
  const emulator = startEmulator({ apiKey, workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache") } } });
  const root = join(import.meta.dir, "..");
  const emu = new EmulatorTarget(emulator, { apiKey, root, statePath: join(tmp, "resources.json") });
  const viaEmulator = await withTarget(emu, () => measure(ticks, 10, 500));
  line("emulator (job-stream + /stream)", viaEmulator, 500);
  rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}

// After the module finished loading: a remote function's export name is known only then.
if (import.meta.main) setTimeout(() => void main(), 0);
