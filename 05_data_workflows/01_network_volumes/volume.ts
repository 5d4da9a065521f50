import { NetworkVolume } from "flash";

/**
 * The volume both workers mount. On Runpod it is created on first use (found by name in its data center after
 * that) and mounted at /runpod-volume in every worker of both endpoints. Under `--target local` it is the folder
 * `.flash/volumes/flash-05-01-volume/` of the workspace; under `--target emulator` the same folder, linked at
 * /runpod-volume of each emulated container. Code finds it through `volume.path`, which is right on every target.
 */
export const volume = new NetworkVolume({ name: "flash-05-01-volume", size: 20 });

/** Where the tagger stores one result per text, on the volume. */
export const TAGS_DIR = "tags";

/** Where the tagger keeps model weights on the volume: one folder per model and version. */
export const MODELS_DIR = "models";

/** A world-unique enough name for the worker running this code: the pod id on Runpod, the process id locally. */
export function workerName(): string {
  return process.env.RUNPOD_POD_ID ?? `pid ${process.pid}`;
}
