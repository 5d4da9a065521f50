import { CpuInstanceType, CpuLiveServerless, Elysia, remote, t } from "flash";
import { identify, LANGUAGE_NAMES, LIMITS, MIN_CONFIDENCE, MIN_LETTERS, type IdentifyRequest } from "./identify";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no model
// load at import time. identify.ts loads the model on a worker's first call.

/**
 * A small CPU endpoint: the model is 0.8 MB and answers in about a millisecond per sentence on one core. A GPU
 * would only add cost and cold-start time. Workers stay 30 s after their last call, so bursts reuse the model.
 */
export const cpuConfig = new CpuLiveServerless({
  name: "02_03_language_id_cpu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 30,
  executionTimeoutMs: 30_000,
});

/** The remote function: identify the language of up to 100 texts in one call (one round trip, one queue slot). */
export const identifyLanguages = remote(cpuConfig, async (req: IdentifyRequest) => identify(req), {
  dependencies: ["lande@1.0.10"],
});

const Text = t.String({
  maxLength: LIMITS.maxChars,
  description: `Any text, at most ${LIMITS.maxChars} characters. At least ${MIN_LETTERS} letters for a reliable answer.`,
  examples: ["Où est la gare, s'il vous plaît ?"],
  error: `text must be a string of at most ${LIMITS.maxChars} characters`,
});
const Top = t.Integer({
  minimum: 1,
  maximum: LIMITS.maxTop,
  default: 3,
  description: "How many candidate languages to list, best first.",
  error: `top must be a whole number from 1 to ${LIMITS.maxTop}`,
});

const Candidate = t.Object({ language: t.String(), name: t.String(), confidence: t.Number() });
const Identified = t.Object({
  language: t.String({ description: 'ISO 639-3 code of the best guess ("und": no letters)' }),
  name: t.String(),
  confidence: t.Number({ description: "probability of the best guess, 0–1" }),
  reliable: t.Boolean({
    description: `false under ${MIN_LETTERS} letters or under ${MIN_CONFIDENCE} confidence`,
  }),
  candidates: t.Array(Candidate),
  letters: t.Integer(),
});
const Timing = { model: t.String(), detect_ms: t.Number(), cold_start: t.Boolean() };

/** POST /detect, POST /detect-batch, GET /languages: language identification on a CPU worker. */
export const cpu_router = new Elysia()
  .post(
    "/detect",
    async ({ body }) => {
      const { results, ...rest } = await identifyLanguages({ texts: [body.text], top: body.top });
      return { ...results[0]!, ...rest };
    },
    {
      body: t.Object(
        { text: Text, top: t.Optional(Top) },
        { examples: [{ text: "Où est la gare, s'il vous plaît ?" }] },
      ),
      response: { 200: t.Object({ ...Identified.properties, ...Timing }) },
      detail: {
        summary: "Identify the language of a text",
        description:
          "The best guess (ISO 639-3 and name), its probability, whether it is reliable, and the `top` candidates.",
      },
    },
  )
  .post("/detect-batch", ({ body }) => identifyLanguages(body), {
    body: t.Object(
      {
        texts: t.Array(Text, {
          minItems: 1,
          maxItems: LIMITS.maxTexts,
          error: `texts must be a list of 1 to ${LIMITS.maxTexts} strings`,
        }),
        top: t.Optional(Top),
      },
      { examples: [{ texts: ["Good morning, how are you today?", "Guten Morgen, wie geht es Ihnen?"], top: 1 }] },
    ),
    response: { 200: t.Object({ results: t.Array(Identified), ...Timing }) },
    detail: {
      summary: "Identify the language of up to 100 texts in one call",
      description: "One remote call for the whole list: results come back in the order of `texts`.",
    },
  })
  .get(
    "/languages",
    () => ({
      count: Object.keys(LANGUAGE_NAMES).length,
      languages: Object.entries(LANGUAGE_NAMES).map(([code, name]) => ({ code, name })),
    }),
    {
      response: {
        200: t.Object({ count: t.Integer(), languages: t.Array(t.Object({ code: t.String(), name: t.String() })) }),
      },
      detail: { summary: "List the 50 languages the model knows", description: "ISO 639-3 codes and English names." },
    },
  );
