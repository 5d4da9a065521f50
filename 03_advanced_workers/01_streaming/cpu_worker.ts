import { Elysia, t, remote, sse, sseResponses, CpuLiveServerless, CpuInstanceType } from "flash";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work at import time.

/** Where the long job runs: a small CPU endpoint that scales from zero to three workers. */
const cpuConfig = new CpuLiveServerless({
  name: "03_01_cpu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
});

/** One progress event of the prime count. */
export interface PrimeProgress {
  step: number;
  of: number;
  range: [number, number];
  primes_in_step: number;
  primes_so_far: number;
  done_pct: number;
}

/** The primes below `n` (a plain sieve): the base primes of the segmented sieve. */
function smallPrimes(n: number): number[] {
  const composite = new Uint8Array(n + 1);
  const out: number[] = [];
  for (let i = 2; i <= n; i++) {
    if (composite[i]) continue;
    out.push(i);
    for (let j = i * i; j <= n; j += i) composite[j] = 1;
  }
  return out;
}

/** How many primes lie in [lo, hi), crossing out multiples of the base primes in that window only. */
function primesIn(lo: number, hi: number, base: number[]): number {
  const composite = new Uint8Array(hi - lo);
  for (const p of base) {
    if (p * p >= hi) break;
    for (let j = Math.max(p * p, Math.ceil(lo / p) * p); j < hi; j += p) composite[j - lo] = 1;
  }
  let count = 0;
  for (let i = Math.max(lo, 2); i < hi; i++) if (!composite[i - lo]) count++;
  return count;
}

/**
 * The remote generator: counts the primes below `limit` in `steps` windows (a segmented sieve) and yields a
 * progress event after each window, so the client sees a long job advance instead of waiting for its end.
 */
export const countPrimes = remote(cpuConfig, async function* (input: { limit: number; steps?: number }) {
  const steps = input.steps ?? 10;
  const base = smallPrimes(Math.ceil(Math.sqrt(input.limit)));
  let total = 0;
  for (let step = 1; step <= steps; step++) {
    const lo = Math.floor(((step - 1) * input.limit) / steps);
    const hi = Math.floor((step * input.limit) / steps);
    const found = primesIn(lo, hi, base);
    total += found;
    yield {
      step,
      of: steps,
      range: [lo, hi],
      primes_in_step: found,
      primes_so_far: total,
      done_pct: Math.round((step / steps) * 100),
    } satisfies PrimeProgress;
  }
});

/** POST /primes: the progress of a long prime count, as Server-Sent Events. */
export const cpu_router = new Elysia().post("/primes", ({ body }) => sse(countPrimes(body), { name: "primes" }), {
  body: t.Object({
    limit: t.Integer({ minimum: 10, maximum: 200_000_000, examples: [1_000_000] }),
    steps: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 10 })),
  }),
  detail: {
    summary: "Count primes, streaming progress (Server-Sent Events)",
    description: "Runs countPrimes on a CPU worker; each window's count is sent as soon as the worker finishes it.",
    // The stream's events, as the docs show them (a `response` schema could only say text/plain).
    responses: sseResponses(
      'one `data: {"step", "of", "range", "primes_in_step", "primes_so_far", "done_pct"}` event per window, then ' +
        "`event: done`",
    ),
  },
});
