/**
 * Where a network volume lives on this machine. Runpod mounts an endpoint's volume at /runpod-volume in each worker
 * (docs.runpod.io/storage/network-volumes); a local process cannot, so local workers (the pool's and the emulator's)
 * get one folder per volume name instead, in FLASH_VOLUME_PATH, where `volume.path` looks.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { setting } from "./settings";

/**
 * The local folder of the network volume `name` (created on demand): `<volumesDir>/<name>`, with `volumesDir`
 * defaulting to FLASH_VOLUMES_DIR of the current directory. Every config naming the volume gets the same folder.
 */
export function networkVolumeFolder(name: string, volumesDir?: string): string {
  const dir = join(volumesDir ?? resolve(setting("FLASH_VOLUMES_DIR")!), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
