import { Elysia, GpuGroup, LiveServerless, remote, t } from "flash";
import { MAX_IMAGE_BYTES, OCR_DEPENDENCIES, recognize, type OcrRequest } from "./ocr";
import { SAMPLE_PNG_BASE64 } from "./sample";

/**
 * A GPU endpoint: the OCR models run with ONNX Runtime's CUDA provider when the worker has it, else on the CPU.
 * Workers stay up 30 s after their last call so bursts of images reuse the loaded models.
 */
export const gpuConfig = new LiveServerless({
  name: "02_02_ocr_gpu",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 30,
  // auto: CUDA when the worker sees a GPU, else CPU; cuda or cpu force one (a failed CUDA load still falls back).
  env: { OCR_EXECUTION_PROVIDER: process.env.OCR_EXECUTION_PROVIDER ?? "auto" },
});

/** The remote function: read the text in an image. The models load on a worker's first call and stay loaded. */
export const readText = remote(gpuConfig, async (req: OcrRequest) => recognize(req), {
  dependencies: OCR_DEPENDENCIES,
});

// Workers import this module: nothing here may read a file or do heavy work at import time (sample.ts explains).
const OcrBody = t.Object(
  {
    image_base64: t.String({
      minLength: 1,
      // base64 is 4/3 of the bytes; a little slack for a data-URL prefix and line breaks
      maxLength: Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 1024,
      description: "A PNG or JPEG image, base64-encoded. A `data:image/png;base64,` prefix is accepted.",
      examples: [SAMPLE_PNG_BASE64],
      error: `image_base64 must be a non-empty base64 string of at most ${MAX_IMAGE_BYTES} bytes once decoded`,
    }),
  },
  { examples: [{ image_base64: SAMPLE_PNG_BASE64 }] },
);

/** POST /ocr: text recognition with PP-OCRv4 on onnxruntime-node. */
const OcrReply = t.Object({
  status: t.Literal("success"),
  text: t.String({ description: "all lines joined with newlines, top to bottom" }),
  lines: t.Array(
    t.Object({
      text: t.String(),
      confidence: t.Number(),
      box: t.Array(t.Array(t.Number()), {
        description: "four corners [x, y] in image pixels, clockwise from top-left",
      }),
    }),
  ),
  image: t.Object({ format: t.Union([t.Literal("png"), t.Literal("jpeg")]), width: t.Integer(), height: t.Integer() }),
  execution_provider: t.Union([t.Literal("cuda"), t.Literal("cpu")]),
  provider_note: t.Nullable(t.String()),
  model: t.String(),
  ocr_ms: t.Number(),
  cold_start: t.Boolean(),
  timestamp: t.String({ format: "date-time" }),
});

export const gpu_router = new Elysia().post("/ocr", ({ body }) => readText(body), {
  body: OcrBody,
  response: { 200: OcrReply },
  detail: {
    summary: "Read the text in an image",
    description:
      "Detects text lines in a PNG or JPEG and recognizes them. Returns each line's text, box (four corners in image " +
      "pixels, clockwise from top-left) and confidence, the whole text, and the execution provider that ran (`cuda` or `cpu`). " +
      "An image that is not valid base64, not a PNG/JPEG, or cannot be decoded is a 400.",
  },
});
