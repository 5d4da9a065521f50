/**
 * A mapped config (mapping.ts: the Python original's template + endpoint fields) as REST v2 bodies
 * (runpod/docs api-reference-v2/openapi.json, CreateEndpointRequest / UpdateEndpointRequest): the endpoint carries
 * its container settings itself, so no template is saved first.
 */
import type { Mapped } from "./mapping";
import type { V2EndpointCreate, V2EndpointUpdate, V2Gpu, V2Scaling } from "./rest-v2";

/** `ADA_24,AMPERE_16,-NVIDIA L4` → pools and excluded GPU types (v2 `gpu.pools`, `gpu.excludedTypes`). */
function gpuSelection(gpuIds: string): Pick<V2Gpu, "pools" | "excludedTypes"> {
  const parts = gpuIds
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const excluded = parts.filter((p) => p.startsWith("-")).map((p) => p.slice(1));
  return { pools: parts.filter((p) => !p.startsWith("-")), ...(excluded.length ? { excludedTypes: excluded } : {}) };
}

/**
 * `cpu3g-2-8` → `{id: "cpu3g", vcpuCount: 2}` (v2 derives memory from the flavour). v2 takes a power of two of at
 * least 2 vCPUs (BaseCpuConfig.vcpuCount), so the 1-vCPU types of runpod/flash's list cannot be asked for: said
 * here, before Runpod refuses the request.
 */
function cpuOf(instanceId: string): { id: string; vcpuCount: number } {
  const [id, vcpus] = instanceId.split("-");
  const vcpuCount = Number(vcpus);
  if (vcpuCount < 2) {
    throw new Error(
      `${instanceId} has ${vcpuCount} vCPU: Runpod's REST API v2 creates CPU workers of 2 vCPUs or more ` +
        `(a power of two); use ${id}-2-${Number(instanceId.split("-")[2]) * 2} or larger`,
    );
  }
  return { id: id!, vcpuCount };
}

const list = (csv: string | undefined) =>
  (csv ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The v2 `scaling` union from GraphQL's scalerType + scalerValue. */
function scalingOf(e: Mapped["endpoint"]): V2Scaling {
  return e.scalerType === "REQUEST_COUNT" || e.type === "LB"
    ? { type: "REQUEST_COUNT", requestCount: Math.max(1, Math.round(e.scalerValue)) }
    : { type: "QUEUE_DELAY", queueDelay: e.scalerValue };
}

/** `workers`: idleTimeout is refused for a queue endpoint that scales on request count (EndpointWorkers). */
function workersOf(e: Mapped["endpoint"], scaling: V2Scaling): V2EndpointCreate["workers"] {
  const idle = !(e.type === "QB" && scaling.type === "REQUEST_COUNT");
  return { min: e.workersMin, max: e.workersMax, ...(idle ? { idleTimeout: e.idleTimeout } : {}) };
}

/** The container settings of a mapped template (`image`, `args`, `disk`, `env`). */
function containerOf(mapped: Mapped): Pick<V2EndpointCreate, "image" | "args" | "disk" | "env"> {
  const t = mapped.template;
  if (!t) return {};
  return {
    image: t.imageName,
    args: t.dockerArgs,
    disk: t.containerDiskInGb,
    env: Object.fromEntries(t.env.map((v) => [v.key, v.value])),
  };
}

/** The body that creates a mapped config's endpoint (`volumeId`: its network volume, when it has one). */
export function createBody(mapped: Mapped): V2EndpointCreate {
  const e = mapped.endpoint;
  const scaling = scalingOf(e);
  const body: V2EndpointCreate = {
    name: e.name,
    type: e.type === "LB" ? "LOAD_BALANCER" : "QUEUE",
    ...containerOf(mapped),
    workers: workersOf(e, scaling),
    scaling,
    timeout: e.executionTimeoutMs,
    flashboot: e.flashBootType ?? "OFF",
  };
  if (e.templateId) body.templateId = e.templateId;
  if (e.instanceIds?.length) body.cpu = e.instanceIds.map(cpuOf);
  else {
    body.gpu = { ...gpuSelection(e.gpuIds ?? ""), count: e.gpuCount ?? 1 };
    const allowed = list(e.allowedCudaVersions);
    if (allowed.length) body.gpu.allowedCudaVersions = allowed;
    else if (e.minCudaVersion) body.gpu.minCudaVersion = e.minCudaVersion;
  }
  if (e.locations) body.dataCenterIds = list(e.locations);
  if (e.networkVolumeId) body.networkVolumes = [e.networkVolumeId];
  return body;
}

/**
 * The PATCH that makes an existing endpoint match a mapped config. Every field flash sets is sent (what a config
 * no longer sets is cleared: `[]`, `""`), and the container settings only when they changed: a container change
 * is a new release that replaces the workers, a scaling change is not.
 */
export function updateBody(mapped: Mapped, containerChanged: boolean): V2EndpointUpdate {
  const { type: _type, gpu, ...create } = createBody(mapped);
  const body: V2EndpointUpdate = {
    ...create,
    dataCenterIds: create.dataCenterIds ?? [],
    networkVolumes: create.networkVolumes ?? [],
  };
  if (!containerChanged) {
    delete body.image;
    delete body.args;
    delete body.disk;
    delete body.env;
    delete body.templateId;
  }
  if (gpu) {
    const allowed = gpu.allowedCudaVersions ?? [];
    body.gpu = {
      ...gpu,
      excludedTypes: gpu.excludedTypes ?? [],
      allowedCudaVersions: allowed,
      minCudaVersion: allowed.length ? "" : (gpu.minCudaVersion ?? ""),
    };
  }
  return body;
}
