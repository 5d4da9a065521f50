/**
 * The environment a pool worker starts with: the server's own, its example folder's `.env`, the config's `env`, the
 * pool's extra variables, then what makes it a worker of this pool (`FLASH_*`), its GPUs (`CUDA_VISIBLE_DEVICES`)
 * and its network volume.
 */
import { exampleDotEnv } from "../../base/env";
import { networkVolumeFolder } from "../../base/volumes";
import { resolveSecrets } from "../../base/secrets";
import type { ResourceConfig } from "../config";

/** What decides one worker's environment. */
export interface WorkerEnvSpec {
  config: ResourceConfig;
  /** The worker's number in its pool (`FLASH_WORKER_ID`). */
  n: number;
  /** The modules it imports while warming up (`FLASH_PRELOAD`). */
  modules: Iterable<string>;
  /** `CUDA_VISIBLE_DEVICES` of a GPU worker; null: none assigned. */
  devices: string | null;
  /** Extra variables of every worker of the pool. */
  env?: Record<string, string>;
  /** The folder that holds one folder per network volume. */
  volumesDir?: string;
  /** The environment it inherits (default: this process's). */
  base?: Record<string, string | undefined>;
}

/** The full environment of a new pool worker. */
export function workerEnv(spec: WorkerEnvSpec): Record<string, string> {
  const { config, devices } = spec;
  const modules = [...spec.modules]; // read twice below: an iterator (a Map's keys) would be empty the second time
  const base = (spec.base ?? process.env) as Record<string, string>;
  // Its example folder's .env: for this example's remote functions only, over the root's, never over the shell.
  const dotEnv = exampleDotEnv(modules);
  const env: Record<string, string> = {
    ...base,
    ...dotEnv,
    // A secret() value is a Runpod secret reference; locally it is read from the environment of that name.
    ...resolveSecrets(config.env, { ...base, ...dotEnv }),
    ...spec.env,
  };
  env.FLASH_WORKER = "1";
  env.FLASH_RESOURCE_NAME = config.name;
  env.FLASH_WORKER_ID = String(spec.n);
  env.FLASH_PRELOAD = JSON.stringify(modules);
  delete env.FLASH_VOLUME_NAME; // never inherited from the server: only a config's own volume is mounted
  delete env.FLASH_VOLUME_PATH;
  Object.assign(env, volumeEnv(config, spec.volumesDir));
  if (devices !== null) {
    env.CUDA_VISIBLE_DEVICES = devices;
    // CUDA numbers devices fastest-first by default; nvidia-smi (whose indices we pin) numbers them by PCI bus.
    env.CUDA_DEVICE_ORDER ??= "PCI_BUS_ID";
  } else if (!config.isGpu) env.CUDA_VISIBLE_DEVICES = ""; // a CPU endpoint has no GPU
  return env;
}

/**
 * A worker of a config with a network volume sees it where `volume.path` looks: FLASH_VOLUME_NAME names it and
 * FLASH_VOLUME_PATH is its local folder. Other workers get neither.
 */
function volumeEnv(config: ResourceConfig, volumesDir?: string): Record<string, string> {
  const volume = config.networkVolume;
  if (!volume) return {};
  return { FLASH_VOLUME_NAME: volume.name, FLASH_VOLUME_PATH: networkVolumeFolder(volume.name, volumesDir) };
}

/** Why the OS refused to start a worker, in words a user can act on (E2BIG: name the variable that is too large). */
export function spawnProblem(err: unknown, env: Record<string, string>): string {
  const e = err as NodeJS.ErrnoException;
  const message = String(e?.message ?? err).split("\n")[0]!;
  if (e?.code !== "E2BIG" && !/E2BIG/.test(message)) return message;
  const [name, value] = Object.entries(env).sort((a, b) => b[1].length - a[1].length)[0] ?? ["?", ""];
  return (
    `the environment is too large for a new process (E2BIG): ${name} is ${Math.ceil(value.length / 1024)} KiB, ` +
    "and Linux allows 128 KiB per variable; keep large values in a file and put its path in .env"
  );
}
