import { CpuInstanceType, CpuLiveServerless, Elysia, remote, t } from "flash";
import { Batcher } from "./batcher";
import { detectAll, type Guess } from "./model";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no model
// load at import time (model.ts loads lande on a worker's first call).

/** Limits of the routes: this is a lesson on one machine, not a stress tool. */
export const LIMITS = { maxChars: 2000, maxWindowMs: 100, maxBatch: 32, maxCalls: 32, maxDelayMs: 2000 } as const;

/** The model's endpoint: one remote call carries a whole batch of texts. */
export const modelConfig = new CpuLiveServerless({
  name: "04_03_batching_model",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMax: 2,
  idleTimeout: 30,
  executionTimeoutMs: 30_000,
});

/** The remote function: every text of a batch through the model, in one call on one worker. */
export const detectBatch = remote(modelConfig, async (texts: string[]) => detectAll(texts), {
  dependencies: ["lande@1.0.10"],
});

/**
 * The I/O-bound endpoint: each call mostly waits, so one worker takes up to 8 calls at once (`maxConcurrency`,
 * Runpod's `concurrency_modifier`) instead of one worker per call: 8 waiting calls start one worker, not two.
 */
export const ioConfig = new CpuLiveServerless({
  name: "04_03_batching_io",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMax: 2,
  maxConcurrency: 8,
  idleTimeout: 30,
  executionTimeoutMs: 30_000,
});

let inFlight = 0;

/**
 * Stands in for a call to a slow upstream API (a database, a hosted LLM, a webhook): it waits `delay_ms` without
 * using the CPU, and says how many calls this worker was running when it started, itself included.
 */
export const callUpstream = remote(ioConfig, async (req: { delay_ms: number }) => {
  const concurrent = ++inFlight;
  try {
    await Bun.sleep(req.delay_ms);
  } finally {
    inFlight--;
  }
  const worker = process.env.RUNPOD_POD_ID ?? `local-${process.env.FLASH_WORKER_ID ?? "0"}`;
  return { concurrent, waited_ms: req.delay_ms, worker };
});

// One batcher per window, made on first use (the API process holds them; workers never do).
const batchers = new Map<number, Batcher<string, Guess>>();
function batcher(windowMs: number): Batcher<string, Guess> {
  let b = batchers.get(windowMs);
  if (!b) {
    b = new Batcher(async (texts) => (await detectBatch(texts)).guesses, windowMs, LIMITS.maxBatch);
    batchers.set(windowMs, b);
  }
  return b;
}

const Text = t.String({
  minLength: 1,
  maxLength: LIMITS.maxChars,
  examples: ["Où est la gare, s'il vous plaît ?"],
  error: `text must be a string of 1 to ${LIMITS.maxChars} characters`,
});
const Window = t.Integer({
  minimum: 0,
  maximum: LIMITS.maxWindowMs,
  default: 10,
  description: "How long the first request of a batch waits for others, in ms (0: no batching).",
  error: `window_ms must be a whole number from 0 to ${LIMITS.maxWindowMs}`,
});
const Delay = t.Integer({
  minimum: 1,
  maximum: LIMITS.maxDelayMs,
  default: 300,
  description: "How long the stand-in upstream call waits, in ms.",
  error: `delay_ms must be a whole number from 1 to ${LIMITS.maxDelayMs}`,
});
const GuessSchema = t.Object({
  language: t.String({ description: "ISO 639-3 code of the best guess" }),
  confidence: t.Number({ description: "its probability, 0–1" }),
});
const Upstream = t.Object({
  concurrent: t.Integer({ description: "calls its worker was running when it started, itself included" }),
  waited_ms: t.Integer(),
  worker: t.String(),
});

/** POST /detect and /detect-burst (dynamic batching), POST /io and /io-burst (per-worker concurrency). */
export const cpu_router = new Elysia()
  .post(
    "/detect",
    async ({ body }) => {
      const windowMs = body.window_ms ?? 10;
      const started = performance.now();
      const { result, batchSize } = await batcher(windowMs).submit(body.text);
      const latency_ms = Math.round((performance.now() - started) * 10) / 10;
      return { ...result, batch_size: batchSize, window_ms: windowMs, latency_ms };
    },
    {
      body: t.Object({ text: Text, window_ms: t.Optional(Window) }, { examples: [{ text: "Guten Morgen!" }] }),
      response: {
        200: t.Object({
          ...GuessSchema.properties,
          batch_size: t.Integer({ description: "requests that shared this one's model call" }),
          window_ms: t.Integer(),
          latency_ms: t.Number(),
        }),
      },
      detail: {
        summary: "Identify a text's language; concurrent requests share one model call",
        description:
          "The request waits up to `window_ms` for others; all of them then go to the model's worker in one remote call.",
      },
    },
  )
  .post(
    "/detect-burst",
    async ({ body }) => {
      const b = batcher(body.window_ms ?? 10);
      const before = b.stats.batches;
      const results = await Promise.all(body.texts.map((text) => b.submit(text)));
      return {
        results: results.map((r) => r.result),
        requests: body.texts.length,
        model_calls: b.stats.batches - before,
      };
    },
    {
      body: t.Object(
        {
          texts: t.Array(Text, {
            minItems: 1,
            maxItems: LIMITS.maxBatch,
            error: `texts must be a list of 1 to ${LIMITS.maxBatch} strings`,
          }),
          window_ms: t.Optional(Window),
        },
        { examples: [{ texts: ["Good morning!", "Guten Morgen!", "Buenos días!"], window_ms: 10 }] },
      ),
      response: {
        200: t.Object({
          results: t.Array(GuessSchema),
          requests: t.Integer(),
          model_calls: t.Integer({
            description: "remote calls the burst cost (other traffic in the window adds none)",
          }),
        }),
      },
      detail: {
        summary: "Send each text as its own concurrent request and count the model calls",
        description: "Shows the batcher at work: with a window, the burst costs one model call; with 0, one per text.",
      },
    },
  )
  .post("/io", ({ body }) => callUpstream({ delay_ms: body.delay_ms ?? 300 }), {
    body: t.Object({ delay_ms: t.Optional(Delay) }, { examples: [{ delay_ms: 300 }] }),
    response: { 200: Upstream },
    detail: { summary: "One I/O-bound call", description: "Runs `callUpstream` on the I/O endpoint's worker." },
  })
  .post(
    "/io-burst",
    async ({ body }) => {
      const delay = body.delay_ms ?? 300;
      const started = performance.now();
      const replies = await Promise.all(Array.from({ length: body.calls }, () => callUpstream({ delay_ms: delay })));
      return {
        calls: body.calls,
        max_concurrent: Math.max(...replies.map((r) => r.concurrent)),
        workers: new Set(replies.map((r) => r.worker)).size,
        elapsed_ms: Math.round(performance.now() - started),
        one_at_a_time_ms: body.calls * delay,
      };
    },
    {
      body: t.Object(
        {
          calls: t.Integer({
            minimum: 1,
            maximum: LIMITS.maxCalls,
            error: `calls must be a whole number from 1 to ${LIMITS.maxCalls}`,
          }),
          delay_ms: t.Optional(Delay),
        },
        { examples: [{ calls: 8, delay_ms: 300 }] },
      ),
      response: {
        200: t.Object({
          calls: t.Integer(),
          max_concurrent: t.Integer({ description: "the most calls one worker ran at once" }),
          workers: t.Integer({ description: "distinct workers that answered" }),
          elapsed_ms: t.Integer(),
          one_at_a_time_ms: t.Integer({ description: "what the calls would take on one worker, one at a time" }),
        }),
      },
      detail: {
        summary: "Send concurrent I/O-bound calls and see one worker run them together",
        description: "With maxConcurrency 8 and one worker, 8 calls of 300 ms take about 300 ms, not 2.4 s.",
      },
    },
  );
