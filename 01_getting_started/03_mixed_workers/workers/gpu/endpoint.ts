import type Sentiment from "sentiment";
import { GpuGroup, LiveServerless, gpuInfo, remote } from "flash";

/** The GPU endpoint for the (expensive) inference step. */
export const gpuConfig = new LiveServerless({
  name: "01_03_gpu",
  gpus: [GpuGroup.ADA_24],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5, // seconds
  executionTimeoutMs: 120_000, // model inference: a cold model load plus a long text, with room to spare
});

/** The scorer: the AFINN-165 word list (with negation handling) from the `sentiment` package, version pinned. */
const SENTIMENT_SPEC = "sentiment@5.0.2";
// The scorer is loaded on the first call, like a model: only workers score text, and the app server (which imports
// this module for the `gpuInference` handle) never pays for the word list (~18 ms of `flash run` start-up).
let analyzer: Promise<Sentiment> | undefined;
const loadAnalyzer = () => (analyzer ??= import("sentiment").then((m) => new m.default()));

// Logit of "neutral": text with no sentiment words comes out neutral (~0.69), one strong word (AFINN 3) tips it.
const NEUTRAL_LOGIT = 1.5;

/** A label and its confidence, rounded to 4 decimals. */
export interface Prediction {
  label: "positive" | "neutral" | "negative";
  confidence: number;
}

/** What the scorer saw: the AFINN score and the words that carried it (after negation). */
export interface Signals {
  score: number;
  positive_words: string[];
  negative_words: string[];
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/**
 * Score text into positive / neutral / negative confidences, deterministically: positive evidence is the sum of
 * the AFINN values of positive words, negative evidence the sum of the magnitudes of negative ones ("not good"
 * counts as negative); a softmax over [positive, neutral prior, negative] turns them into confidences.
 * Predictions are sorted by confidence, highest first.
 */
export async function scoreSentiment(text: string): Promise<{ predictions: Prediction[]; signals: Signals }> {
  const result = (await loadAnalyzer()).analyze(text);
  let positive = 0;
  let negative = 0;
  for (const entry of result.calculation as Record<string, number>[]) {
    for (const value of Object.values(entry)) {
      if (value > 0) positive += value;
      else negative -= value;
    }
  }
  const [pos, neu, neg] = softmax([positive, NEUTRAL_LOGIT, negative]) as [number, number, number];
  const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
  const predictions: Prediction[] = [
    { label: "positive" as const, confidence: round4(pos) },
    { label: "neutral" as const, confidence: round4(neu) },
    { label: "negative" as const, confidence: round4(neg) },
  ].sort((a, b) => b.confidence - a.confidence);
  return {
    predictions,
    signals: { score: result.score, positive_words: result.positive, negative_words: result.negative },
  };
}

/**
 * Step 2 (GPU): classify the cleaned text's sentiment and report the model and the GPU it ran on. The AFINN scorer
 * itself runs on the worker's CPU: this step stands for the model a GPU would run (02_ml_inference/02_ocr runs a
 * real model with CUDA), so the pipeline's shape and costs are the lesson here, not the scorer.
 */
export const gpuInference = remote(
  gpuConfig,
  async (input: { cleaned_text: string; word_count: number }) => {
    const { predictions, signals } = await scoreSentiment(input.cleaned_text);
    const gpu = gpuInfo();
    const chars = Array.from(input.cleaned_text);
    return {
      status: "success" as const,
      predictions,
      signals,
      model_info: {
        model_type: "sentiment_classifier",
        version: "1.0.0",
        scorer: `AFINN-165 lexicon (${SENTIMENT_SPEC})`,
        gpu_name: gpu.available ? gpu.name : "No GPU (running locally)",
        gpu_memory_gb: gpu.memory_gb,
      },
      input_stats: {
        cleaned_text: chars.length > 100 ? `${chars.slice(0, 100).join("")}...` : input.cleaned_text,
        word_count: input.word_count,
      },
      timestamp: new Date().toISOString(),
      worker_type: "GPU Inference",
    };
  },
  { dependencies: [SENTIMENT_SPEC] },
);
