/**
 * The upscaler: ESRGAN's small RDN generator (2×, trained on DIV2K; weights shipped inside `@upscalerjs/default-model`)
 * run by TensorFlow.js on its WebAssembly backend, with images decoded and encoded by sharp. Loaded lazily on the first
 * call and reused by every later call in the same worker.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { InputError, gpuInfo, logger } from "flash";
import { checkImage, fromBase64 } from "./image";

const log = logger("upscale");

/** The model, as replies name it. */
export const MODEL = "ESRGAN RDN 2× (@upscalerjs/default-model 1.0.0)";

/** How much larger each side of the output is. */
export const SCALE = 2;

/** The packages a worker running this function installs (pinned): the weights, TensorFlow.js and the image codec. */
export const UPSCALE_DEPENDENCIES = [
  "@upscalerjs/default-model@1.0.0",
  "@tensorflow/tfjs-core@4.22.0",
  "@tensorflow/tfjs-layers@4.22.0",
  "@tensorflow/tfjs-backend-wasm@4.22.0",
  "@tensorflow/tfjs-backend-cpu@4.22.0",
  "sharp@0.33.5",
];

/** The TensorFlow.js backend that runs the model: WebAssembly (SIMD) or plain JavaScript. Both run on the CPU. */
export type Backend = "wasm" | "cpu";

/** What to upscale. */
export interface UpscaleRequest {
  /** A PNG or JPEG, base64-encoded (a `data:image/…;base64,` prefix is accepted). */
  image_base64: string;
}

/** The upscaled image and how it was made. */
export interface UpscaleResult {
  status: "success";
  /** The output, a PNG, base64-encoded. */
  image_base64: string;
  input: { format: "png" | "jpeg"; width: number; height: number };
  output: { format: "png"; width: number; height: number; bytes: number };
  scale: number;
  model: string;
  backend: Backend;
  /** Why the GPU (if any) is not used, or why the fallback backend runs; null when there is nothing to say. */
  backend_note: string | null;
  /** Time on the worker for this image, decode and encode included, model load excluded. */
  upscale_ms: number;
  /** True when this call loaded the model (the first call in a worker). */
  cold_start: boolean;
  timestamp: string;
}

/** A loaded model: RGB pixels in, RGB pixels (2× each side) out. */
interface Upscaler {
  backend: Backend;
  note: string | null;
  run(rgb: Uint8Array, width: number, height: number): Promise<Uint8Array>;
}

/** The backend asked for in `UPSCALE_BACKEND` (wasm or cpu; default wasm). */
export function backendFromEnv(value = process.env.UPSCALE_BACKEND): Backend {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "cpu") return "cpu";
  if (v !== "" && v !== "wasm") log.warn(`UPSCALE_BACKEND=${value} is not wasm or cpu; using wasm`);
  return "wasm";
}

/** An installed package's root folder (the one holding its package.json), found from this module. */
function packageRoot(name: string): string {
  let dir = dirname(Bun.resolveSync(name, import.meta.dir));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Why a GPU the worker has goes unused: said once per reply, so nobody pays for a GPU by mistake. */
function gpuNote(): string | null {
  if (!gpuInfo().available) return null;
  return (
    "a GPU is present but unused: TensorFlow.js runs here on the CPU (its CUDA backend, @tensorflow/tfjs-node-gpu, " +
    "downloads libtensorflow at install and needs a custom image)"
  );
}

/** Load TensorFlow.js on the chosen backend (WebAssembly falls back to plain JS if it fails) and the model. */
async function createUpscaler(choice: Backend = backendFromEnv()): Promise<Upscaler> {
  const started = performance.now();
  const tf = await import("@tensorflow/tfjs-core");
  // Production mode: no debug checks, and no console banner advertising tfjs-node (which cannot install offline).
  tf.enableProdMode();
  let backend: Backend = choice;
  let note = gpuNote();
  if (choice === "wasm") {
    try {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      // An explicit folder: the worker runs a bundled copy of this code, so the backend cannot find its .wasm files
      // relative to its own (bundled) location.
      wasm.setWasmPaths(`${join(packageRoot("@tensorflow/tfjs-backend-wasm"), "dist")}/`);
      if (!(await tf.setBackend("wasm"))) throw new Error("the WebAssembly backend did not initialize");
    } catch (err) {
      backend = "cpu";
      note = `WebAssembly backend unavailable (${String((err as Error)?.message ?? err).split("\n")[0]}); running plain JS`;
      log.warn(note);
    }
  }
  if (backend === "cpu") {
    await import("@tensorflow/tfjs-backend-cpu");
    await tf.setBackend("cpu");
  }
  const { loadLayersModel } = await import("@tensorflow/tfjs-layers");
  const dir = join(packageRoot("@upscalerjs/default-model"), "models");
  const json = await Bun.file(join(dir, "model.json")).json();
  const model = await loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: await Bun.file(join(dir, json.weightsManifest[0].paths[0])).arrayBuffer(),
    }),
  );
  log.info(`${MODEL} loaded on ${backend} in ${(performance.now() - started).toFixed(0)} ms`);
  return {
    backend,
    note,
    async run(rgb, width, height) {
      // Pixels 0–255 in and out (the model's input and output range); tidy frees every intermediate tensor.
      const out = tf.tidy(() => {
        const input = tf.tensor4d(Float32Array.from(rgb), [1, height, width, 3]);
        const y = model.predict(input) as import("@tensorflow/tfjs-core").Tensor;
        return tf.cast(tf.round(tf.clipByValue(y, 0, 255)), "int32");
      });
      const data = await out.data();
      out.dispose();
      return Uint8Array.from(data);
    },
  };
}

let loading: Promise<Upscaler> | undefined;

/** The worker's model, loaded on first use and cached; a failed load is retried on the next call. */
function loadUpscaler(): Promise<Upscaler> {
  loading ??= createUpscaler().catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/**
 * Upscale a PNG/JPEG 2× on each side. The model sees RGB; an alpha channel, if the image has a non-opaque one, is
 * resized with Lanczos and put back. The output is a PNG. Bad input throws InputError (a 400 for remote callers).
 */
export async function upscale(req: UpscaleRequest): Promise<UpscaleResult> {
  const bytes = typeof req?.image_base64 === "string" ? fromBase64(req.image_base64) : null;
  if (!bytes) throw new InputError("image_base64 is not valid base64");
  const header = checkImage(bytes);
  if (typeof header === "string") throw new InputError(header);
  const cold = loading === undefined;
  const upscaler = await loadUpscaler();
  const started = performance.now();
  const sharp = (await import("sharp")).default;
  let rgba: { data: Buffer; info: { width: number; height: number } };
  try {
    rgba = await sharp(bytes).rotate().ensureAlpha(1).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new InputError(`image could not be decoded: ${String((err as Error).message).split("\n")[0]}`);
  }
  const { width, height } = rgba.info;
  const pixels = width * height;
  const rgb = new Uint8Array(pixels * 3);
  const alpha = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = rgba.data[p * 4]!;
    rgb[p * 3 + 1] = rgba.data[p * 4 + 1]!;
    rgb[p * 3 + 2] = rgba.data[p * 4 + 2]!;
    alpha[p] = rgba.data[p * 4 + 3]!;
  }
  const up = await upscaler.run(rgb, width, height);
  const [w2, h2] = [width * SCALE, height * SCALE];
  const png = alpha.every((a) => a === 255)
    ? await sharp(up, { raw: { width: w2, height: h2, channels: 3 } })
        .png()
        .toBuffer()
    : await withAlpha(sharp, up, alpha, width, height);
  return {
    status: "success",
    image_base64: png.toString("base64"),
    input: { format: header.format, width, height },
    output: { format: "png", width: w2, height: h2, bytes: png.length },
    scale: SCALE,
    model: MODEL,
    backend: upscaler.backend,
    backend_note: upscaler.note,
    upscale_ms: Math.round((performance.now() - started) * 10) / 10,
    cold_start: cold,
    timestamp: new Date().toISOString(),
  };
}

/** The upscaled RGB with the source's alpha resized (Lanczos) to match, as an RGBA PNG. */
async function withAlpha(
  sharp: typeof import("sharp"),
  rgb: Uint8Array,
  alpha: Uint8Array,
  width: number,
  height: number,
): Promise<Buffer> {
  const [w2, h2] = [width * SCALE, height * SCALE];
  const bigAlpha = await sharp(alpha, { raw: { width, height, channels: 1 } })
    .resize(w2, h2, { kernel: "lanczos3" })
    .raw()
    .toBuffer();
  return sharp(rgb, { raw: { width: w2, height: h2, channels: 3 } })
    .joinChannel(bigAlpha, { raw: { width: w2, height: h2, channels: 1 } })
    .png()
    .toBuffer();
}
