/**
 * How a resource config becomes a Runpod template + endpoint (flash-sdk.md §3.5): the Python original's field
 * mapping, with flash's own worker image for live configs.
 */
import type { ResourceConfig } from "../remote/config";
import type { EndpointInput, TemplateInput } from "./graphql";

/**
 * The image a config's workers run: its `imageName`; else FLASH_WORKER_IMAGE_GPU / FLASH_WORKER_IMAGE_CPU for that
 * kind; else FLASH_WORKER_IMAGE; else a placeholder tag (`flash-worker:gpu|cpu`) that you build from worker/.
 */
export function workerImage(config: ResourceConfig, env: Record<string, string | undefined> = process.env): string {
  if (config.imageName) return config.imageName;
  const perKind = config.isGpu ? env.FLASH_WORKER_IMAGE_GPU : env.FLASH_WORKER_IMAGE_CPU;
  if (perKind) return perKind;
  if (env.FLASH_WORKER_IMAGE) return env.FLASH_WORKER_IMAGE;
  return `flash-worker:${config.isGpu ? "gpu" : "cpu"}`;
}

/** Whether the image is only the built-in placeholder (nothing the user built and pushed). */
export function isPlaceholderImage(image: string): boolean {
  return /^flash-worker:(gpu|cpu)$/.test(image);
}

/** The endpoint name: `live-` for dev sessions (idempotent), plus `-fb` with FlashBoot (from the config). */
export function endpointName(config: ResourceConfig, live: boolean): string {
  const base = config.endpointName.replace(/^(live-)+/, "");
  return live ? `live-${base}` : base;
}

/** The template and endpoint fields a config sends (no ids: the provisioner adds them). */
export interface Mapped {
  name: string;
  template: Omit<TemplateInput, "id" | "name">;
  endpoint: Omit<EndpointInput, "id" | "templateId">;
}

/** Map a resource config to GraphQL inputs. */
export function mapConfig(
  config: ResourceConfig,
  live: boolean,
  env: Record<string, string | undefined> = process.env,
): Mapped {
  const name = endpointName(config, live);
  if (config.networkVolume && !config.networkVolume.id) {
    throw new Error(
      `${config.kind} "${config.name}": networkVolume "${config.networkVolume.name}" has no id; create it in the Runpod console and pass its id`,
    );
  }
  const template: Mapped["template"] = {
    imageName: workerImage(config, env),
    containerDiskInGb: config.containerDiskInGb,
    volumeInGb: 0,
    dockerArgs: "",
    env: Object.entries(config.env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value })),
    isServerless: true,
  };
  const endpoint: Mapped["endpoint"] = {
    name,
    type: config.isLoadBalancer ? "LB" : "QB",
    gpuIds: config.gpuIds,
    workersMin: config.workersMin,
    workersMax: config.workersMax,
    idleTimeout: config.idleTimeout,
    scalerType: config.scalerType,
    scalerValue: config.scalerValue,
    executionTimeoutMs: config.executionTimeoutMs,
    workersPFBTarget: config.workersPFBTarget,
  };
  if (config.isGpu) endpoint.gpuCount = config.gpuCount;
  else endpoint.instanceIds = [...config.instanceIds];
  const locations = env.RUNPOD_DEFAULT_LOCATIONS || env.RUNPOD_DEFAULT_DATACENTER || config.datacenter;
  if (locations) endpoint.locations = locations;
  if (config.networkVolume?.id) endpoint.networkVolumeId = config.networkVolume.id;
  if (config.flashboot) endpoint.flashBootType = "FLASHBOOT";
  if (config.allowedCudaVersions) endpoint.allowedCudaVersions = config.allowedCudaVersions;
  if (config.flashEnvironmentId) endpoint.flashEnvironmentId = config.flashEnvironmentId;
  return { name, template, endpoint };
}

/** sha256 over the mapped fields with sorted keys: equal configs hash equal, any sent field change changes it. */
export function configHash(mapped: Mapped): string {
  return new Bun.CryptoHasher("sha256").update(stableJson(mapped)).digest("hex").slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
