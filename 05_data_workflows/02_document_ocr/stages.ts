/**
 * The pipeline's two remote stages: OCR on a GPU config (PP-OCRv4 with ONNX Runtime: CUDA when the worker has it,
 * else CPU), then field extraction on a small CPU config. The OCR engine is 02_ml_inference/02_ocr's, imported
 * (one copy of it in the repository); the bundle shipped to a worker carries it.
 */
import { CpuInstanceType, CpuLiveServerless, GpuGroup, LiveServerless, remote } from "flash";
import { OCR_DEPENDENCIES, recognize } from "../../02_ml_inference/02_ocr/ocr";
import { extractFields } from "./extract";

// Workers import this module: nothing here reads a file or loads a model at import time (ocr.ts loads on first call).

/** OCR: a GPU endpoint, kept 60 s after a document so a batch of uploads reuses the loaded models. */
export const ocrConfig = new LiveServerless({
  name: "05_02_document_ocr_gpu",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 60,
  executionTimeoutMs: 120_000,
});

/** Extraction: milliseconds of regular expressions, on the smallest CPU worker. */
export const extractConfig = new CpuLiveServerless({
  name: "05_02_document_ocr_cpu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
  executionTimeoutMs: 10_000,
});

/** Stage 1 (GPU): the text of a PNG or JPEG, line by line. */
export const readDocument = remote(ocrConfig, async (image_base64: string) => recognize({ image_base64 }), {
  dependencies: OCR_DEPENDENCIES,
});

/** Stage 2 (CPU): total, subtotal, tax, amounts and dates from the text. */
export const extractDocumentFields = remote(extractConfig, async (text: string) => extractFields(text));
