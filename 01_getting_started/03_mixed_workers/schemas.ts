/** The replies of the pipeline's routes, so /docs shows what each step returns. */
import { t } from "flash";

const Prediction = t.Object({ label: t.String(), confidence: t.Number() });

/** Step 1 (CPU): the cleaned text and its counts. */
export const PreprocessReply = t.Object({
  status: t.Literal("success"),
  original_text: t.String(),
  cleaned_text: t.String(),
  word_count: t.Integer(),
  sentence_count: t.Integer(),
  char_count: t.Integer(),
  timestamp: t.String({ format: "date-time" }),
  worker_type: t.String(),
});

/** Step 2 (GPU): predictions, what the scorer saw, and the model and GPU. */
export const InferenceReply = t.Object({
  status: t.Literal("success"),
  predictions: t.Array(Prediction),
  signals: t.Object({ score: t.Number(), positive_words: t.Array(t.String()), negative_words: t.Array(t.String()) }),
  model_info: t.Object({
    model_type: t.String(),
    version: t.String(),
    scorer: t.String(),
    gpu_name: t.Nullable(t.String()),
    gpu_memory_gb: t.Number(),
  }),
  input_stats: t.Object({ cleaned_text: t.String(), word_count: t.Integer() }),
  timestamp: t.String({ format: "date-time" }),
  worker_type: t.String(),
});

/** Step 3 (CPU), and the whole pipeline: the top label, graded, with everything that led to it. */
export const PostprocessReply = t.Object({
  status: t.Literal("success"),
  text_preview: t.String(),
  classification: t.Object({ label: t.String(), confidence: t.Number(), confidence_level: t.String() }),
  all_predictions: t.Array(Prediction),
  metadata: t.Record(t.String(), t.Unknown()),
  processing_pipeline: t.Object({ steps: t.Array(t.String()), completed_at: t.String({ format: "date-time" }) }),
  worker_type: t.String(),
});

/** POST /classify-batch: one result per text, in order, and how long the batch took. */
export const BatchReply = t.Object({
  results: t.Array(PostprocessReply),
  count: t.Integer(),
  batch_ms: t.Number(),
});
