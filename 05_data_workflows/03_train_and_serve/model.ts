import { readdirSync } from "node:fs";
import { NetworkVolume } from "flash";

// Shared by the trainer and the serving endpoint: the volume, where the models go on it, and how a version is named.
// Constants and small pure helpers only: workers import this module too.

/**
 * The volume both endpoints mount. On Runpod it is created on first use (found by name in its data center after
 * that) and mounted at /runpod-volume in every worker of both endpoints; under `--target local` and
 * `--target emulator` it is the folder `.flash/volumes/flash-05-03-models/` of the workspace (FLASH_VOLUMES_DIR).
 */
export const volume = new NetworkVolume({ name: "flash-05-03-models", size: 10 });

/** The folder of the model's versions on the volume: `v0001.json`, `v0002.json`, … */
export const MODELS_DIR = "models/iris-forest";

/** The four measurements of an iris flower, in cm, in the order the dataset gives them. */
export const FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"] as const;

/** One flower to classify. */
export type Flower = Record<(typeof FEATURES)[number], number>;

/** The training settings a model was made with. */
export interface TrainParams {
  trees: number;
  max_depth: number;
  folds: number;
  seed: number;
}

/** What a version file holds: the forest (ml-random-forest's `toJSON()`) and how it was made. */
export interface ModelFile {
  version: number;
  timestamp: string;
  params: TrainParams;
  classes: string[];
  features: string[];
  samples: number;
  cv_accuracy: number;
  fold_accuracy: number[];
  train_ms: number;
  forest: unknown;
}

const VERSION_FILE = /^v(\d+)\.json$/;

/** A version's file name: `v0007.json`. */
export const versionFile = (version: number): string => `v${String(version).padStart(4, "0")}.json`;

/** The versions in `dir`, oldest first (none when the folder does not exist yet); temp files are not versions. */
export function listVersions(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no model trained yet: the folder is made by the first save
  }
  return names
    .map((n) => VERSION_FILE.exec(n)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}
