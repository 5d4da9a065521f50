import { Elysia, logger, t } from "flash";
import { BatchReply, PostprocessReply } from "./schemas";
import { checkText, invalid, textProblem } from "./validation";
import { postprocessResults, preprocessText } from "./workers/cpu/endpoint";
import { gpuInference } from "./workers/gpu/endpoint";

const log = logger("03_mixed_workers");

/** The whole pipeline: CPU preprocessing → GPU inference → CPU postprocessing. */
export async function classify(text: string) {
  const pre = await preprocessText({ text });
  const inference = await gpuInference({ cleaned_text: pre.cleaned_text, word_count: pre.word_count });
  return postprocessResults({
    predictions: inference.predictions,
    original_text: text,
    metadata: { word_count: pre.word_count, sentence_count: pre.sentence_count, model: inference.model_info },
  });
}

/** At most this many texts per /classify-batch call: each runs the three steps, queued against each config's workersMax. */
export const MAX_BATCH = 32;

const TextField = t.String({
  description: "Raw text: not blank, 3 to 10,000 characters",
  examples: ["This product is great, I love it!"],
});

/** Example-level routes (mounted at /01_getting_started/03_mixed_workers): the pipeline in one call, or many. */
export const api_router = new Elysia()
  .post(
    "/classify",
    async ({ body }) => {
      try {
        return await classify(body.text);
      } catch (err) {
        // Which step failed goes to the log; the client gets flash's generic 500 with a request id.
        log.error(`classify failed: ${(err as Error)?.stack ?? err}`);
        throw err;
      }
    },
    {
      body: t.Object({ text: TextField }, { examples: [{ text: "This product is great, I love it!" }] }),
      beforeHandle: checkText as never, // a 422 Response; Elysia types a hook's return against the 200 schema only
      response: { 200: PostprocessReply },
      detail: {
        summary: "Classify text sentiment through the CPU → GPU → CPU pipeline",
        description:
          "Runs preprocess (CPU), sentiment inference (GPU), postprocess (CPU) and returns the postprocess result.",
      },
    },
  )
  .post(
    "/classify-batch",
    async ({ body }) => {
      const started = performance.now();
      // Every text's pipeline starts at once; each step queues on its own config (workersMax 3 each), so the
      // CPU and GPU stages of different texts overlap.
      const results = await Promise.all(body.texts.map((text) => classify(text)));
      return { results, count: results.length, batch_ms: Math.round((performance.now() - started) * 10) / 10 };
    },
    {
      body: t.Object(
        {
          texts: t.Array(TextField, {
            minItems: 1,
            maxItems: MAX_BATCH,
            error: `texts must be a list of 1 to ${MAX_BATCH} texts`,
          }),
        },
        { examples: [{ texts: ["This product is great, I love it!", "Worst purchase ever, it broke."] }] },
      ),
      beforeHandle({ body }) {
        const problems = body.texts.flatMap((text, i) => {
          const msg = textProblem(text);
          return msg ? [{ loc: ["body", "texts", i], msg, input: text }] : [];
        });
        return problems.length ? invalid(problems) : undefined; // a 422 Response
      },
      response: { 200: BatchReply },
      detail: {
        summary: "Classify up to 32 texts at once",
        description: "Runs the pipeline for every text concurrently; results come back in the order of `texts`.",
      },
    },
  );

if (import.meta.main) {
  // `bun main.ts` runs the whole pipeline once through the workers.
  log.log(JSON.stringify(await classify("This product is great, I love it!"), null, 2));
  process.exit(0);
}
