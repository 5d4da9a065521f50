import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MODELS_DIR, workerName } from "./volume";

// The model's weights cached on the network volume, the way the Python original points HF_HUB_CACHE at
// /runpod-volume/models: the first worker ever copies them there, every later cold start (any worker, any endpoint
// with the volume) loads them from there. lande ships its weights inside its npm package (standalone/t50-*.js:
// the network's layers, its input n-grams and its 50 labels); the code that runs them (lande's `infer`, toygrad's
// network) always comes from the installed package, as diffusers and torch do in the original.

/** The model, as it is named in replies and on the volume. */
export const MODEL = "lande 1.0.10";
/** Its folder on the volume, under MODELS_DIR. */
export const MODEL_FOLDER = `${MODELS_DIR}/lande-1.0.10`;
/** The files of the model on the volume, and the module of the npm package each one is copied from. */
const FILES = [
  ["weights.json", "t50-options.js"],
  ["ngrams.json", "t50-ngrams.js"],
  ["labels.json", "t50-langs.js"],
] as const;
type FileName = (typeof FILES)[number][0];

/** `manifest.json` of a model folder: written last, so a folder with a manifest is complete. */
export interface ModelManifest {
  model: string;
  files: { name: string; bytes: number; sha256: string }[];
  /** Where the copy came from, which worker made it, and when. */
  copied: { from: string; worker: string; timestamp: string };
}

/** A loaded model: the detector, and where this worker got its weights. */
export interface LoadedModel {
  detect: (text: string) => [string, number][];
  /** "volume": read from the volume's copy; "package": read from the installed npm package, then copied. */
  source: "volume" | "package";
  load_ms: number;
}

type Files = Record<FileName, string>;
const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");

/** Load lande, with its weights from the volume at `root` when a worker put them there, else from its package. */
export async function loadLande(root: string): Promise<LoadedModel> {
  const started = performance.now();
  // Resolved from the code that runs (the worker's install of the declared dependency), never from a fixed path.
  const pkg = dirname(fileURLToPath(import.meta.resolve("lande")));
  const dir = join(root, MODEL_FOLDER);
  const cached = await readCopy(dir);
  const files = cached ?? (await readPackage(pkg));
  if (!cached) await writeCopy(dir, files);
  const { infer } = (await import(join(pkg, "utils.js"))) as { infer: Infer };
  const { NeuralNetwork } = (await import(Bun.resolveSync("toygrad", pkg))) as {
    NeuralNetwork: new (o: unknown) => Net;
  };
  const net = new NeuralNetwork(JSON.parse(files["weights.json"]));
  const labels = JSON.parse(files["labels.json"]) as string[];
  const ngrams = JSON.parse(files["ngrams.json"]) as unknown;
  return {
    detect: (text) => infer(text, labels, ngrams, net),
    source: cached ? "volume" : "package",
    load_ms: Math.round(performance.now() - started),
  };
}

type Net = object;
type Infer = (text: string, labels: string[], ngrams: unknown, net: Net) => [string, number][];

/** The volume's copy, or null when there is none or a file does not match the manifest (then it is copied again). */
async function readCopy(dir: string): Promise<Files | null> {
  const manifestFile = join(dir, "manifest.json");
  if (!existsSync(manifestFile)) return null;
  const manifest = (await Bun.file(manifestFile)
    .json()
    .catch(() => null)) as ModelManifest | null;
  if (!Array.isArray(manifest?.files)) return null;
  const files = {} as Files;
  for (const [name] of FILES) {
    const file = Bun.file(join(dir, name));
    const text = (await file.exists()) ? await file.text() : "";
    if (manifest.files.find((f) => f.name === name)?.sha256 !== sha256(text)) return null;
    files[name] = text;
  }
  return files;
}

/** The weights as the npm package ships them (ES modules exporting JSON-able data), as JSON text. */
async function readPackage(pkg: string): Promise<Files> {
  const files = {} as Files;
  for (const [name, module] of FILES) {
    files[name] = JSON.stringify(((await import(join(pkg, module))) as { default: unknown }).default);
  }
  return files;
}

/**
 * Write the copy beside its final folder, manifest last, then rename it into place: another worker sees the whole
 * folder or none. When two first workers race, the first rename wins and the other drops its copy.
 */
async function writeCopy(dir: string, files: Files): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  for (const [name] of FILES) await Bun.write(join(tmp, name), files[name]);
  const manifest: ModelManifest = {
    model: MODEL,
    files: FILES.map(([name]) => ({ name, bytes: Buffer.byteLength(files[name]), sha256: sha256(files[name]) })),
    copied: {
      from: "npm package lande@1.0.10 (standalone/t50-options.js, t50-ngrams.js, t50-langs.js)",
      worker: workerName(),
      timestamp: new Date().toISOString(),
    },
  };
  await Bun.write(join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2));
  rmSync(dir, { recursive: true, force: true }); // a copy that failed its check (readCopy returned null)
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker renamed its copy first
  }
}
