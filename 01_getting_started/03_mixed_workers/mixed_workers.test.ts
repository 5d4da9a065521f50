import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { listGpus } from "../../core/base/gpu";
import { textProblem } from "./validation";
import { cleanText, confidenceLevel, postprocessResults, preprocessText } from "./workers/cpu/endpoint";
import { gpuInference, scoreSentiment } from "./workers/gpu/endpoint";
import { mothership } from "./mothership";

const ex = exampleHarness(import.meta.dir);
// Worker starts (GPU configs: subprocesses) take seconds on a loaded machine.
setDefaultTimeout(30_000);
const { post, pool } = ex;

const TOO_SHORT = 'Text too short (minimum 3 characters). Example: {"text": "Hello world"}';

describe("POST /classify: CPU → GPU → CPU", () => {
  test("loads cpu, gpu and the example-level router", () => {
    expect(ex.app.errors).toEqual([]);
    expect(ex.app.examples[0]!.routers.map((r) => r.prefix)).toEqual([
      "/01_getting_started/03_mixed_workers/cpu",
      "/01_getting_started/03_mixed_workers/gpu",
      "/01_getting_started/03_mixed_workers",
    ]);
  });

  test("positive text: label, exact confidences, metadata from every step", async () => {
    const { status, body } = await post("/classify", { text: "This product is great, I love it!" });
    expect(status).toBe(200);
    expect(body.status).toBe("success");
    expect(body.worker_type).toBe("CPU Postprocessing");
    expect(body.text_preview).toBe("This product is great, I love it!");
    expect(body.classification).toEqual({ label: "positive", confidence: 0.9866, confidence_level: "high" });
    expect(body.all_predictions).toEqual([
      { label: "positive", confidence: 0.9866 },
      { label: "neutral", confidence: 0.011 },
      { label: "negative", confidence: 0.0024 },
    ]);
    expect(body.metadata.word_count).toBe(7);
    expect(body.metadata.sentence_count).toBe(2);
    expect(body.metadata.model.model_type).toBe("sentiment_classifier");
    expect(body.metadata.model.scorer).toBe("AFINN-165 lexicon (sentiment@5.0.2)");
    expect(body.processing_pipeline.steps).toEqual(["preprocessing", "gpu_inference", "postprocessing"]);
  });

  test("negative and neutral text", async () => {
    const negative = await post("/classify", { text: "This is terrible and I hate it" });
    expect(negative.body.classification).toEqual({ label: "negative", confidence: 0.9866, confidence_level: "high" });
    const neutral = await post("/classify", { text: "The sky is blue today." });
    expect(neutral.body.classification).toEqual({ label: "neutral", confidence: 0.6914, confidence_level: "medium" });
    expect(neutral.body.all_predictions.map((p: any) => p.label)).toEqual(["neutral", "positive", "negative"]);
  });

  test("deterministic: the same text gives the same predictions", async () => {
    const a = await post("/classify", { text: "Not bad, but not good either." });
    const b = await post("/classify", { text: "Not bad, but not good either." });
    expect(a.body.all_predictions).toEqual(b.body.all_predictions);
  });

  test("a long text is previewed as 100 characters and '...'", async () => {
    const text = `${"wonderful ".repeat(20)}end`;
    const { body } = await post("/classify", { text });
    expect(body.text_preview).toBe(`${text.slice(0, 100)}...`);
    expect(body.classification.label).toBe("positive");
  });

  test.each([
    ["", "Text cannot be empty"],
    ["    ", "Text cannot be empty"],
    ["hi", TOO_SHORT],
    ["x".repeat(10_001), "Text too long (maximum 10,000 characters). Got 10001 characters."],
  ])("invalid text %# is a 422 with the original's message", async (text, msg) => {
    const { status, body } = await post("/classify", { text });
    expect(status).toBe(422);
    expect(body.error).toBe("validation");
    // Long inputs are echoed cut to 200 characters, with their length (a huge body must not come back whole).
    const input = text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
    expect(body.detail).toEqual([{ loc: ["body", "text"], msg, type: "value_error", input }]);
    expect(body.message).toBe(`body.text: ${msg}`);
  });

  test("a missing text is a 422 from the schema", async () => {
    const { status, body } = await post("/classify", {});
    expect(status).toBe(422);
    expect(body.detail[0].loc).toEqual(["body", "text"]);
  });
});

describe("the steps as routes", () => {
  test("POST /cpu/preprocess cleans and counts as the original", async () => {
    const { status, body } = await post("/cpu/preprocess", { text: "  Hello,   world!! test. ©™ naïve  " });
    expect(status).toBe(200);
    expect(body.cleaned_text).toBe("Hello, world!! test.  naïve");
    expect(body.original_text).toBe("  Hello,   world!! test. ©™ naïve  ");
    expect(body.word_count).toBe(4);
    expect(body.sentence_count).toBe(3);
    expect(body.char_count).toBe(27);
    expect(body.worker_type).toBe("CPU Preprocessing");
  });

  test("POST /cpu/preprocess validates like /classify", async () => {
    const { status, body } = await post("/cpu/preprocess", { text: "ab" });
    expect(status).toBe(422);
    expect(body.detail[0].msg).toBe(TOO_SHORT);
  });

  test("POST /gpu/inference scores negation and reports the words it used", async () => {
    const { status, body } = await post("/gpu/inference", { cleaned_text: "not good at all", word_count: 4 });
    expect(status).toBe(200);
    expect(body.predictions[0]).toEqual({ label: "negative", confidence: 0.7856 });
    expect(body.signals).toEqual({ score: -3, positive_words: [], negative_words: ["good"] });
    expect(body.input_stats).toEqual({ cleaned_text: "not good at all", word_count: 4 });
    const gpus = listGpus();
    if (gpus.length === 0)
      expect(body.model_info).toMatchObject({ gpu_name: "No GPU (running locally)", gpu_memory_gb: 0 });
    else expect(gpus.map((g) => g.name)).toContain(body.model_info.gpu_name);
    expect(body.worker_type).toBe("GPU Inference");
  });

  test("POST /gpu/inference rejects blank text and a negative count", async () => {
    const blank = await post("/gpu/inference", { cleaned_text: "  ", word_count: 1 });
    expect(blank.status).toBe(422);
    expect(blank.body.detail[0]).toMatchObject({ loc: ["body", "cleaned_text"], msg: "Cleaned text cannot be empty" });
    const negative = await post("/gpu/inference", { cleaned_text: "ok", word_count: -1 });
    expect(negative.status).toBe(422);
    expect(negative.body.detail[0]).toMatchObject({
      loc: ["body", "word_count"],
      msg: "word_count must be a whole number ≥ 0",
    });
  });

  test("POST /cpu/postprocess picks the first maximum and grades it", async () => {
    const { status, body } = await post("/cpu/postprocess", {
      predictions: [
        { label: "a", confidence: 0.6 },
        { label: "b", confidence: 0.6 },
        { label: "c", confidence: 0.1 },
      ],
      original_text: "x",
      metadata: { source: "test" },
    });
    expect(status).toBe(200);
    expect(body.classification).toEqual({ label: "a", confidence: 0.6, confidence_level: "medium" });
    expect(body.metadata).toEqual({ source: "test" });
  });

  test("POST /cpu/postprocess: out-of-range confidences, then an empty list", async () => {
    const bad = await post("/cpu/postprocess", {
      predictions: [
        { label: "a", confidence: 2 },
        { label: "b", confidence: 0.5 },
        { label: "c", confidence: -0.25 },
      ],
      original_text: "x",
      metadata: {},
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail.map((d: any) => [d.loc, d.msg])).toEqual([
      [["body", "predictions", 0, "confidence"], "Confidence must be between 0.0 and 1.0, got 2.0"],
      [["body", "predictions", 2, "confidence"], "Confidence must be between 0.0 and 1.0, got -0.25"],
    ]);
    const empty = await post("/cpu/postprocess", { predictions: [], original_text: "x", metadata: {} });
    expect(empty.status).toBe(422);
    expect(empty.body.detail[0].msg).toBe(
      'Predictions cannot be empty. Example: [{"label": "positive", "confidence": 0.9}]',
    );
  });

  test("every route is in /docs/json with a request example", async () => {
    const doc = (await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json()) as any;
    for (const path of ["/classify", "/cpu/preprocess", "/cpu/postprocess", "/gpu/inference"]) {
      const op = doc.paths[`/01_getting_started/03_mixed_workers${path}`]?.post;
      expect(op?.tags[0]).toBe("01 Getting Started > 03 Mixed Workers");
      expect(op.requestBody.content["application/json"].schema.examples.length).toBeGreaterThan(0);
    }
  });
});

describe("remote functions on the local pool", () => {
  test("the three steps run on their pools and chain", async () => {
    const pre = await preprocessText({ text: "I love it. Really!" });
    expect(pre).toMatchObject({ cleaned_text: "I love it. Really!", word_count: 4, sentence_count: 3 });
    const inference = await gpuInference({ cleaned_text: pre.cleaned_text, word_count: pre.word_count });
    expect(inference.predictions[0]!.label).toBe("positive");
    const post = await postprocessResults({
      predictions: inference.predictions,
      original_text: "I love it. Really!",
      metadata: {},
    });
    expect(post.classification.label).toBe("positive");
    expect((await pool("01_03_cpu")).calls).toBeGreaterThanOrEqual(2);
    expect((await pool("01_03_gpu")).calls).toBeGreaterThanOrEqual(1);
  });

  test("postprocessing an empty list gives 'unknown' with level 'none'", async () => {
    const post = await postprocessResults({ predictions: [], original_text: "x", metadata: {} });
    expect(post.classification).toEqual({ label: "unknown", confidence: 0, confidence_level: "none" });
  });
});

describe("pure helpers", () => {
  test("textProblem checks in the original's order", () => {
    expect(textProblem(" ")).toBe("Text cannot be empty");
    expect(textProblem("ab")).toBe(TOO_SHORT);
    expect(textProblem("😀😀")).toBe(TOO_SHORT); // two characters, four UTF-16 units
    expect(textProblem("abc")).toBeNull();
  });

  test("cleanText keeps Unicode letters and drops symbols", () => {
    expect(cleanText("  Grüße,\t\nwelt — 日本語!  ")).toBe("Grüße, welt  日本語!");
  });

  test("confidenceLevel thresholds are exclusive", () => {
    expect([0.81, 0.8, 0.51, 0.5].map(confidenceLevel)).toEqual(["high", "medium", "medium", "low"]);
  });

  test("scoreSentiment: confidences sum to ~1 and follow the evidence", async () => {
    const { predictions } = await scoreSentiment("good");
    expect(predictions[0]).toEqual({ label: "positive", confidence: 0.7856 });
    const total = predictions.reduce((s, p) => s + p.confidence, 0);
    expect(Math.abs(total - 1)).toBeLessThan(0.001);
  });
});

test("mothership.ts: the CPU load balancer that would serve the routes when deployed", () => {
  expect(mothership.kind).toBe("CpuLiveLoadBalancer");
  expect(mothership.isLoadBalancer).toBe(true);
  expect(mothership.name).toBe("01_03_mixed_workers-mothership");
});

describe("POST /classify-batch", () => {
  test("classifies every text, in order, through the same three steps", async () => {
    const texts = ["This product is great, I love it!", "This is terrible and I hate it", "The sky is blue today."];
    const gpuBefore = (await ex.pool("01_03_gpu"))?.calls ?? 0;
    const { status, body } = await ex.post("/classify-batch", { texts });
    expect(status).toBe(200);
    expect(body.count).toBe(3);
    expect(body.results.map((r: { classification: { label: string } }) => r.classification.label)).toEqual([
      "positive",
      "negative",
      "neutral",
    ]);
    expect(body.results[1].text_preview).toBe(texts[1]);
    expect((await ex.pool("01_03_gpu")).calls).toBe(gpuBefore + 3); // one GPU step per text
  });

  test("each text is checked like /classify: the 422 names its index; over 32 texts is a 422", async () => {
    const bad = await ex.post("/classify-batch", { texts: ["fine text here", "hi"] });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toEqual([
      {
        loc: ["body", "texts", 1],
        msg: 'Text too short (minimum 3 characters). Example: {"text": "Hello world"}',
        type: "value_error",
        input: "hi",
      },
    ]);
    const many = await ex.post("/classify-batch", { texts: Array(33).fill("a fine text") });
    expect(many.status).toBe(422);
    expect(many.body.detail[0]).toMatchObject({ loc: ["body", "texts"], msg: "texts must be a list of 1 to 32 texts" });
  });

  test("each stage has its own execution timeout", async () => {
    const [cpu, gpu] = [await import("./workers/cpu/endpoint"), await import("./workers/gpu/endpoint")];
    expect(cpu.cpuConfig.executionTimeoutMs).toBe(30_000);
    expect(gpu.gpuConfig.executionTimeoutMs).toBe(120_000);
  });
});
