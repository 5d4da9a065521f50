import { CpuInstanceType, CpuLiveServerless, remote } from "flash";

/** One CPU endpoint serves both cheap steps of the pipeline (preprocessing and postprocessing). */
export const cpuConfig = new CpuLiveServerless({
  name: "01_03_cpu",
  instanceIds: [CpuInstanceType.CPU3G_2_8],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 3, // seconds: CPU workers are cheap to start again
  executionTimeoutMs: 30_000, // text cleanup takes milliseconds: a job still running after 30 s is stuck
});

/** A predicted label and its confidence in [0, 1]. */
export interface Prediction {
  label: string;
  confidence: number;
}

// Python's `\w` and `\s` are Unicode-aware: keep letters, digits, underscore, whitespace and basic punctuation.
const DISALLOWED = /[^\p{L}\p{N}_\s.,!?-]/gu;

/** Clean raw text the way the original does: strip, collapse whitespace, drop unusual characters. */
export function cleanText(text: string): string {
  return text.trim().replace(/\s+/g, " ").replace(DISALLOWED, "");
}

/** The first `limit` characters (code points) of `text`, with "..." when it was longer. */
export function preview(text: string, limit = 100): string {
  const chars = Array.from(text);
  return chars.length > limit ? `${chars.slice(0, limit).join("")}...` : text;
}

/** "high" above 0.8, "medium" above 0.5, else "low". */
export function confidenceLevel(confidence: number): "high" | "medium" | "low" {
  if (confidence > 0.8) return "high";
  if (confidence > 0.5) return "medium";
  return "low";
}

/** Step 1 (CPU): clean the text and count words, sentences and characters. Input is validated by the route. */
export const preprocessText = remote(cpuConfig, async (input: { text: string }) => {
  const cleaned = cleanText(input.text);
  return {
    status: "success" as const,
    original_text: input.text,
    cleaned_text: cleaned,
    word_count: cleaned.split(/\s+/).filter(Boolean).length,
    // Like Python's re.split, empty trailing pieces count: "Hello, world!! test." has 3.
    sentence_count: cleaned.split(/[.!?]+/).length,
    char_count: Array.from(cleaned).length,
    timestamp: new Date().toISOString(),
    worker_type: "CPU Preprocessing",
  };
});

/** Step 3 (CPU): pick the top prediction, grade its confidence, and describe the pipeline run. */
export const postprocessResults = remote(
  cpuConfig,
  async (input: { predictions: Prediction[]; original_text: string; metadata: Record<string, unknown> }) => {
    // The first maximum wins, as Python's max() picks it.
    const top = input.predictions.reduce<Prediction | null>(
      (best, p) => (best === null || p.confidence > best.confidence ? p : best),
      null,
    );
    return {
      status: "success" as const,
      text_preview: preview(input.original_text),
      classification: {
        label: top?.label ?? "unknown",
        confidence: top?.confidence ?? 0,
        confidence_level: top ? confidenceLevel(top.confidence) : "none",
      },
      all_predictions: input.predictions,
      metadata: input.metadata,
      processing_pipeline: {
        steps: ["preprocessing", "gpu_inference", "postprocessing"],
        completed_at: new Date().toISOString(),
      },
      worker_type: "CPU Postprocessing",
    };
  },
);
