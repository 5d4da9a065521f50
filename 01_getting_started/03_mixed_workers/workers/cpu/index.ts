import { Elysia, t } from "flash";
import { checkText, invalid, type FieldProblem } from "../../validation";
import { PostprocessReply, PreprocessReply } from "../../schemas";
import { postprocessResults, preprocessText, type Prediction } from "./endpoint";

const TextBody = t.Object(
  {
    text: t.String({
      description: "Raw text: not blank, 3 to 10,000 characters",
      examples: ["This product is great, I love it!"],
    }),
  },
  { examples: [{ text: "This product is great, I love it!" }] },
);

const PostprocessBody = t.Object(
  {
    predictions: t.Array(
      t.Object({ label: t.String(), confidence: t.Number({ description: "Between 0.0 and 1.0" }) }),
      { description: "Model predictions (not empty)" },
    ),
    original_text: t.String(),
    metadata: t.Record(t.String(), t.Unknown(), { description: "Anything to carry through to the result" }),
  },
  {
    examples: [
      {
        predictions: [
          { label: "positive", confidence: 0.9 },
          { label: "neutral", confidence: 0.07 },
          { label: "negative", confidence: 0.03 },
        ],
        original_text: "This product is great, I love it!",
        metadata: { word_count: 7 },
      },
    ],
  },
);

/** Python's repr of a float (`2` → "2.0"), so messages read as the original's. */
function pyFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** The original's prediction checks: each confidence within [0, 1], then a non-empty list. */
function predictionProblems(predictions: Prediction[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  predictions.forEach((p, i) => {
    if (p.confidence < 0 || p.confidence > 1) {
      problems.push({
        loc: ["body", "predictions", i, "confidence"],
        msg: `Confidence must be between 0.0 and 1.0, got ${pyFloat(p.confidence)}`,
        input: p.confidence,
      });
    }
  });
  if (problems.length > 0) return problems;
  if (predictions.length === 0) {
    problems.push({
      loc: ["body", "predictions"],
      msg: 'Predictions cannot be empty. Example: [{"label": "positive", "confidence": 0.9}]',
      input: predictions,
    });
  }
  return problems;
}

/** CPU routes: the cheap steps of the pipeline, each callable on its own. */
export const cpu_router = new Elysia()
  .post("/preprocess", ({ body }) => preprocessText({ text: body.text }), {
    body: TextBody,
    beforeHandle: checkText as never, // a 422 Response; Elysia types a hook's return against the 200 schema only
    response: { 200: PreprocessReply },
    detail: { summary: "Clean text and count words, sentences and characters (CPU)" },
  })
  .post(
    "/postprocess",
    ({ body }) =>
      postprocessResults({
        // Plain JSON values only cross to a worker.
        predictions: body.predictions.map((p) => ({ label: p.label, confidence: p.confidence })),
        original_text: body.original_text,
        metadata: body.metadata,
      }),
    {
      body: PostprocessBody,
      beforeHandle({ body }) {
        const problems = predictionProblems(body.predictions);
        return problems.length > 0 ? invalid(problems) : undefined; // a 422 Response
      },
      response: { 200: PostprocessReply },
      detail: { summary: "Pick the top prediction and grade its confidence (CPU)" },
    },
  );
