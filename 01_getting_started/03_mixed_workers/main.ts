import { Elysia, logger, t } from "flash";
import { checkText } from "./validation";
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

/** Example-level routes (mounted at /01_getting_started/03_mixed_workers): the pipeline in one call. */
export const api_router = new Elysia().post(
  "/classify",
  async ({ body }) => {
    try {
      return await classify(body.text);
    } catch (err) {
      // As the original: any failure of a step is a 500 that names it; the full error goes to the log.
      log.error(`classify failed: ${(err as Error)?.stack ?? err}`);
      throw new Error(`Processing error: ${(err as Error)?.message ?? err}`);
    }
  },
  {
    body: t.Object(
      {
        text: t.String({
          description: "Raw text: not blank, 3 to 10,000 characters",
          examples: ["This product is great, I love it!"],
        }),
      },
      { examples: [{ text: "This product is great, I love it!" }] },
    ),
    beforeHandle: checkText,
    detail: {
      summary: "Classify text sentiment through the CPU → GPU → CPU pipeline",
      description:
        "Runs preprocess (CPU), sentiment inference (GPU), postprocess (CPU) and returns the postprocess result.",
    },
  },
);

if (import.meta.main) {
  // `bun main.ts` runs the whole pipeline once through the workers.
  log.log(JSON.stringify(await classify("This product is great, I love it!"), null, 2));
  process.exit(0);
}
