import { NetworkVolume } from "flash";

/**
 * The volume both workers mount. On Runpod it is created on first use (found by name in its data center after
 * that) and mounted at /runpod-volume in every worker of both endpoints; under `--target local` and
 * `--target emulator` it is the folder `.flash/volumes/flash-05-01-volume/` of the workspace. Code finds it
 * through `volume.path`, which is right on every target.
 */
export const volume = new NetworkVolume({ name: "flash-05-01-volume", size: 20 });

/** Where the tagger stores one result per text, on the volume. */
export const TAGS_DIR = "tags";
