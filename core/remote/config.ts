/**
 * Resource configs: where remote functions run. Class names, field names and defaults follow the Python
 * original (runpod/flash src/runpod_flash/core/resources/serverless.py); every config is validated when it is constructed, with errors that name the
 * config and the field.
 */
import { closest } from "../base/did-you-mean";
import { secretRef } from "../base/secrets";
import {
  allGpuGroups,
  CPU_DATACENTERS,
  CpuInstanceType,
  cpuInstanceMaxDiskGb,
  CudaVersion,
  DataCenter,
  GPU_TYPE_POOL,
  GpuGroup,
  GpuType,
  ServerlessScalerType,
  ServerlessType,
} from "./enums";

/** A resource config that fails validation (bad field, unknown option…). */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Every config class, by its name: the `kind` discriminator (usable without `instanceof`). */
const CONFIG_KINDS = [
  "LiveServerless",
  "CpuLiveServerless",
  "LiveLoadBalancer",
  "CpuLiveLoadBalancer",
  "ServerlessEndpoint",
  "CpuServerlessEndpoint",
] as const;

/** The discriminator of every config class. */
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** Fields of a `NetworkVolume`. */
export interface NetworkVolumeOptions {
  name: string;
  /** Size in GB (default 100). */
  size?: number;
  dataCenterId?: DataCenter;
  id?: string;
}

/**
 * Where Runpod mounts an endpoint's network volume inside each of its serverless workers ("Network volumes for
 * Serverless": https://docs.runpod.io/storage/network-volumes; a Pod mounts it at `/workspace` instead).
 */
const SERVERLESS_VOLUME_MOUNT = "/runpod-volume";

/**
 * A volume name: it names the volume on Runpod (letters, digits, spaces, `-`, `_`; runpod/runpod-rust-sdk
 * NetworkVolumeCreateInput documents 1 to 255 such characters) and its folder on this machine, so nothing that
 * could leave that folder (`/`, `..`) or hide it (a leading dot) gets through.
 */
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9 _-]{0,254}$/;

/**
 * A persistent volume mounted at `/runpod-volume` in every worker of the endpoints that use it. Locally (the
 * pool and the emulator) it is the folder `.flash/volumes/<name>` of the workspace; `volume.path` is the right
 * place on every target.
 */
export class NetworkVolume {
  readonly kind = "NetworkVolume" as const;
  readonly name: string;
  readonly size: number;
  readonly dataCenterId: DataCenter;
  id?: string;

  constructor(options: NetworkVolumeOptions) {
    const where = `NetworkVolume "${options?.name ?? ""}"`;
    if (!options || typeof options !== "object")
      throw new ConfigError("NetworkVolume needs an options object: new NetworkVolume({ name })");
    rejectUnknown(where, options as unknown as Record<string, unknown>, ["name", "size", "dataCenterId", "id"]);
    this.name = requireName(where, options.name);
    if (!VOLUME_NAME.test(this.name)) {
      throw new ConfigError(
        `${where}: name may hold only letters, digits, spaces, "-" and "_", start with a letter or digit and be at ` +
          `most 255 characters (it names the volume on Runpod and its folder in .flash/volumes/), e.g. "shared-results"`,
      );
    }
    this.size = options.size ?? 100;
    if (!Number.isInteger(this.size) || this.size <= 0 || this.size > 4000) {
      throw new ConfigError(
        `${where}: size must be a whole number of GB between 1 and 4000 (got ${String(options.size)})`,
      );
    }
    this.dataCenterId = options.dataCenterId ?? DataCenter.EU_RO_1;
    oneOf(where, "dataCenterId", this.dataCenterId, Object.values(DataCenter));
    if (options.id !== undefined) this.id = options.id;
  }

  /**
   * Where this volume is mounted in the worker running the code: `/runpod-volume` on Runpod, the volume's folder
   * under the local pool and the emulator (which pass it in FLASH_VOLUME_PATH, since a local process cannot mount
   * `/runpod-volume`). Only the workers of endpoints that use the volume have it: anywhere else (the server that
   * serves the routes, a worker of another endpoint) this throws, as the mount would be missing on Runpod too.
   */
  get path(): string {
    const mounted = process.env.FLASH_VOLUME_NAME;
    const local = process.env.FLASH_VOLUME_PATH;
    if (mounted === this.name && local) return local;
    // FLASH_CONTAINER_ROOT: the emulator's stand-in for the container's "/" (unset on Runpod).
    if (mounted === this.name) return `${process.env.FLASH_CONTAINER_ROOT ?? ""}${SERVERLESS_VOLUME_MOUNT}`;
    const where = mounted
      ? `this worker's endpoint uses the network volume "${mounted}"`
      : "this process is not a worker of an endpoint that uses it";
    throw new ConfigError(
      `NetworkVolume "${this.name}" is not mounted here (${where}): read and write it inside a remote function ` +
        "whose config has this volume as its networkVolume",
    );
  }

  /** Plain JSON of the volume's fields. */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      name: this.name,
      size: this.size,
      dataCenterId: this.dataCenterId,
      ...(this.id ? { id: this.id } : {}),
    };
  }
}

/** Fields shared by every serverless config (Runpod GraphQL names, camelCase). */
export interface ServerlessResourceOptions {
  /** Endpoint name (required), unique per resource. */
  name: string;
  /** GPU pools or models (GPU configs; default `[GpuGroup.ANY]`). */
  gpus?: (GpuGroup | GpuType)[];
  /** GPUs per worker (GPU configs; default 1). */
  gpuCount?: number;
  /** CPU instance types (CPU configs; default `[cpu3g-2-8]`). */
  instanceIds?: CpuInstanceType[];
  /** Workers kept warm (default 0). */
  workersMin?: number;
  /** Most workers at once (default 3). */
  workersMax?: number;
  /** Seconds a worker may stay idle before it is stopped (default 5). */
  idleTimeout?: number;
  /** Per-call limit in milliseconds; 0 = the target's default (600 s locally). */
  executionTimeoutMs?: number;
  /**
   * Calls one worker runs at once (default 1), for I/O-bound async functions: a worker awaiting a network answer
   * can take the next call meanwhile. Runpod's counterpart is the worker's job concurrency: runpod-python's
   * `concurrency_modifier` (runpod/serverless/modules/rp_scale.py: the JobScaler keeps up to that many jobs in
   * flight and takes them with `job-take-batch`), which runpod/flash sets from `Endpoint(max_concurrency=…)`
   * (default 1). CPU-bound functions gain nothing: they share one event loop. On Runpod it applies to queue
   * endpoints (a load balancer's workers take HTTP requests concurrently anyway); the local pool applies it to both.
   */
  maxConcurrency?: number;
  /** Environment variables of the workers. */
  env?: Record<string, string>;
  networkVolume?: NetworkVolume;
  scalerType?: ServerlessScalerType;
  scalerValue?: number;
  /** Container image (required for non-live `ServerlessEndpoint`s; live configs default to the flash image). */
  imageName?: string;
  /**
   * A private image's registry credentials on Runpod (the id of a container registry auth, created in the console
   * under Settings → Container Registry Auth); runpod/flash templates carry it (core/resources/template.py).
   */
  containerRegistryAuthId?: string;
  templateId?: string;
  /** Runpod FlashBoot (faster cold starts; default true). */
  flashboot?: boolean;
  cudaVersions?: CudaVersion[];
  /**
   * Where the workers may run: one data center or several (runpod/flash's `datacenter` takes both: core/resources/
   * serverless.py `normalize_datacenter`). Unset: any data center, or, with a `networkVolume`, the volume's one.
   */
  datacenter?: DataCenter | DataCenter[];
  workersPFBTarget?: number;
  flashEnvironmentId?: string;
  /** Container disk in GB (default 64; CPU configs shrink it to what their instances allow). */
  containerDiskInGb?: number;
  /**
   * Local target: run each worker in its own process (default true). `false` puts a CPU config's workers on
   * threads of the server process: a few microseconds less per call, but a crash, an OOM, `process.exit` or a
   * `chdir` in its code then takes the whole server down. GPU configs always isolate.
   */
  isolate?: boolean;
}

const FIELDS: readonly string[] = [
  "name",
  "gpus",
  "gpuCount",
  "instanceIds",
  "workersMin",
  "workersMax",
  "idleTimeout",
  "executionTimeoutMs",
  "maxConcurrency",
  "env",
  "networkVolume",
  "scalerType",
  "scalerValue",
  "imageName",
  "containerRegistryAuthId",
  "templateId",
  "flashboot",
  "cudaVersions",
  "datacenter",
  "workersPFBTarget",
  "flashEnvironmentId",
  "containerDiskInGb",
  "isolate",
];

/** The shared base of every serverless config; use one of its concrete subclasses. */
export abstract class ServerlessResource {
  readonly kind: ConfigKind;
  readonly name: string;
  readonly gpus: (GpuGroup | GpuType)[];
  readonly gpuCount: number;
  readonly instanceIds: CpuInstanceType[];
  readonly workersMin: number;
  readonly workersMax: number;
  readonly idleTimeout: number;
  readonly executionTimeoutMs: number;
  readonly maxConcurrency: number;
  readonly env: Record<string, string>;
  readonly networkVolume?: NetworkVolume;
  readonly scalerType: ServerlessScalerType;
  readonly scalerValue: number;
  readonly imageName: string;
  readonly containerRegistryAuthId?: string;
  readonly templateId?: string;
  readonly flashboot: boolean;
  readonly cudaVersions: CudaVersion[];
  /**
   * The data centers the workers may run in, sent as the endpoint's `locations` (GraphQL) or `dataCenterIds`
   * (REST v2); empty: anywhere Runpod has capacity.
   */
  readonly datacenters: DataCenter[];
  readonly workersPFBTarget: number;
  readonly flashEnvironmentId?: string;
  readonly containerDiskInGb: number;
  readonly isolate: boolean;
  /** `QB` (queue) or `LB` (load balancer). */
  readonly type: ServerlessType;

  protected constructor(
    className: ConfigKind,
    options: ServerlessResourceOptions,
    shape: { cpu: boolean; lb: boolean },
  ) {
    if (!options || typeof options !== "object")
      throw new ConfigError(`${className} needs an options object: new ${className}({ name: "…" })`);
    this.kind = className;
    const where = `${className} "${typeof options.name === "string" ? options.name : ""}"`;
    rejectUnknown(where, options as unknown as Record<string, unknown>, FIELDS);
    this.name = requireName(where, options.name);
    this.type = shape.lb ? ServerlessType.LB : ServerlessType.QB;
    this.workersMin = count(where, "workersMin", options.workersMin, 0);
    this.workersMax = count(where, "workersMax", options.workersMax, 3);
    if (this.workersMax < 1) throw new ConfigError(`${where}: workersMax must be at least 1 (got ${this.workersMax})`);
    if (this.workersMin > this.workersMax) {
      throw new ConfigError(
        `${where}: workersMin (${this.workersMin}) is greater than workersMax (${this.workersMax})`,
      );
    }
    this.idleTimeout = nonNegative(where, "idleTimeout", options.idleTimeout, 5);
    this.executionTimeoutMs = count(where, "executionTimeoutMs", options.executionTimeoutMs, 0);
    this.maxConcurrency = count(where, "maxConcurrency", options.maxConcurrency, 1);
    if (this.maxConcurrency < 1)
      throw new ConfigError(`${where}: maxConcurrency must be at least 1 (got ${this.maxConcurrency})`);
    this.scalerType =
      options.scalerType ?? (shape.lb ? ServerlessScalerType.REQUEST_COUNT : ServerlessScalerType.QUEUE_DELAY);
    oneOf(where, "scalerType", this.scalerType, Object.values(ServerlessScalerType));
    if (shape.lb && this.scalerType === ServerlessScalerType.QUEUE_DELAY) {
      throw new ConfigError(`${where}: load balancers scale by REQUEST_COUNT; QUEUE_DELAY is not supported`);
    }
    this.scalerValue = count(where, "scalerValue", options.scalerValue, 4);
    this.workersPFBTarget = count(where, "workersPFBTarget", options.workersPFBTarget, 0);
    this.env = stringMap(where, "env", options.env);
    this.flashboot = bool(where, "flashboot", options.flashboot, true);
    this.isolate = bool(where, "isolate", options.isolate, true);
    this.cudaVersions = list(where, "cudaVersions", options.cudaVersions, [], Object.values(CudaVersion));
    const chosen = dataCenters(where, options.datacenter);
    if (options.templateId !== undefined) this.templateId = text(where, "templateId", options.templateId);
    if (options.flashEnvironmentId !== undefined)
      this.flashEnvironmentId = text(where, "flashEnvironmentId", options.flashEnvironmentId);
    this.imageName = options.imageName === undefined ? "" : text(where, "imageName", options.imageName);
    if (options.containerRegistryAuthId !== undefined)
      this.containerRegistryAuthId = text(where, "containerRegistryAuthId", options.containerRegistryAuthId);
    if (options.networkVolume !== undefined) {
      const v = options.networkVolume as unknown as Record<string, unknown> | null;
      if (!v || v.kind !== "NetworkVolume") throw new ConfigError(`${where}: networkVolume must be a NetworkVolume`);
      // An endpoint with a network volume runs only where the volume is ("your deployments will be constrained to
      // the datacenter where the volume is located": docs.runpod.io/storage/network-volumes); runpod/flash refuses
      // a volume outside the endpoint's list with this message (serverless.py `sync_input_fields`).
      if (chosen.length > 0 && !chosen.includes(v.dataCenterId as DataCenter)) {
        throw new ConfigError(
          `${where}: Network volume datacenter (${String(v.dataCenterId)}) is not in the endpoint's datacenter list ` +
            `(${chosen.join(", ")}): networkVolume "${String(v.name)}" can only be mounted in its own data center`,
        );
      }
      this.networkVolume = options.networkVolume;
    }
    // Unset with a volume: confined to the volume's data center, and said so (Runpod would place workers there anyway).
    this.datacenters = chosen.length === 0 && this.networkVolume ? [this.networkVolume.dataCenterId] : chosen;

    const instanceIds = list(where, "instanceIds", options.instanceIds, [], Object.values(CpuInstanceType));
    if (shape.cpu && options.gpus !== undefined && options.gpus.length > 0) {
      throw new ConfigError(`${where}: a CPU config takes instanceIds, not gpus`);
    }
    if (shape.cpu || instanceIds.length > 0) {
      // Runpod has CPU serverless in EU-RO-1 only: runpod/flash refuses others with this message
      // (core/resources/datacenter.py CPU_DATACENTERS, serverless.py validate_cpu_datacenters).
      const unsupported = this.datacenters.filter((dc) => !CPU_DATACENTERS.includes(dc));
      if (unsupported.length > 0) {
        throw new ConfigError(
          `${where}: CPU endpoints are not available in: ${unsupported.join(", ")}. Supported CPU data centers: ${CPU_DATACENTERS.join(", ")}` +
            (chosen.length === 0 ? ` (the data center of networkVolume "${this.networkVolume?.name}")` : ""),
        );
      }
      // CPU endpoints carry no GPU fields (runpod/flash (Python) zeroes them).
      this.instanceIds = instanceIds.length > 0 ? instanceIds : [CpuInstanceType.CPU3G_2_8];
      this.gpus = [];
      this.gpuCount = 0;
    } else {
      this.instanceIds = [];
      this.gpus = list(
        where,
        "gpus",
        options.gpus,
        [GpuGroup.ANY],
        [...Object.values(GpuGroup), ...Object.values(GpuType)],
      );
      if (this.gpus.length === 0)
        throw new ConfigError(`${where}: gpus is empty; use [GpuGroup.ANY] to accept any GPU`);
      this.gpuCount = count(where, "gpuCount", options.gpuCount, 1);
      if (this.gpuCount < 1) throw new ConfigError(`${where}: gpuCount must be at least 1`);
    }
    const defaultDisk = 64;
    const disk = count(where, "containerDiskInGb", options.containerDiskInGb, defaultDisk);
    if (this.instanceIds.length > 0) {
      const limit = Math.min(...this.instanceIds.map(cpuInstanceMaxDiskGb));
      if (options.containerDiskInGb !== undefined && disk > limit) {
        throw new ConfigError(
          `${where}: containerDiskInGb ${disk} exceeds ${limit} GB, the most ${this.instanceIds.join(", ")} allow`,
        );
      }
      this.containerDiskInGb = options.containerDiskInGb === undefined ? limit : disk;
    } else {
      this.containerDiskInGb = disk;
    }
  }

  /** True when workers need a GPU. */
  get isGpu(): boolean {
    return this.instanceIds.length === 0;
  }

  /** True for load-balanced (HTTP route) endpoints. */
  get isLoadBalancer(): boolean {
    return this.type === ServerlessType.LB;
  }

  /** True for the live (`Live*`) classes, which run shipped code on flash's own image. */
  get isLive(): boolean {
    return this.kind.includes("Live");
  }

  /** The deployed endpoint name: `name` with `-fb` when FlashBoot is on (idempotent). */
  get endpointName(): string {
    const base = this.name.replace(/-fb$/, "");
    return this.flashboot ? `${base}-fb` : base;
  }

  /**
   * Runpod's `gpuIds` string: pools, plus `-<model>` negations for the other models of a pool when specific
   * models are chosen; sorted so the same config always encodes the same way. Empty for CPU configs.
   */
  get gpuIds(): string {
    if (!this.isGpu) return "";
    const pools = new Set<string>();
    const chosen = new Set<string>();
    for (const g of this.gpus) {
      if (g === GpuGroup.ANY) allGpuGroups().forEach((p) => pools.add(p));
      else if ((Object.values(GpuGroup) as string[]).includes(g)) pools.add(g);
      else {
        const pool = GPU_TYPE_POOL[g as Exclude<GpuType, "any">];
        if (pool) {
          pools.add(pool);
          chosen.add(g);
        }
      }
    }
    const negations: string[] = [];
    for (const [model, pool] of Object.entries(GPU_TYPE_POOL)) {
      if (!chosen.size || chosen.has(model) || !pools.has(pool)) continue;
      const poolChosenExplicitly = [...chosen].some((c) => GPU_TYPE_POOL[c as Exclude<GpuType, "any">] === pool);
      if (poolChosenExplicitly && !this.gpus.includes(pool)) negations.push(`-${model}`);
    }
    return [...[...pools].sort(), ...negations.sort()].join(",");
  }

  /**
   * Runpod's `locations` (GraphQL EndpointInput; comma list, `""` = anywhere): the data centers as runpod/flash
   * sends them (serverless.py `sync_input_fields`). REST v2 takes the same ids as the array `dataCenterIds`.
   */
  get locations(): string {
    return this.datacenters.join(",");
  }

  /** Runpod's `allowedCudaVersions` (comma list). */
  get allowedCudaVersions(): string {
    return this.cudaVersions.join(",");
  }

  /** Plain JSON of the config's fields (for status pages and state files; no secrets: env values are masked). */
  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      name: this.name,
      type: this.type,
      ...(this.isGpu ? { gpus: this.gpus, gpuCount: this.gpuCount } : { instanceIds: this.instanceIds }),
      workersMin: this.workersMin,
      workersMax: this.workersMax,
      idleTimeout: this.idleTimeout,
      executionTimeoutMs: this.executionTimeoutMs,
      ...(this.maxConcurrency > 1 ? { maxConcurrency: this.maxConcurrency } : {}),
      env: Object.fromEntries(Object.keys(this.env).map((k) => [k, "***"])),
      scalerType: this.scalerType,
      scalerValue: this.scalerValue,
      // The user's image only: the image a Runpod target deploys for live configs is the target's choice.
      ...(this.imageName ? { imageName: this.imageName } : {}),
      ...(this.containerRegistryAuthId ? { containerRegistryAuthId: this.containerRegistryAuthId } : {}),
      flashboot: this.flashboot,
      ...(this.datacenters.length ? { datacenters: this.datacenters } : {}),
      ...(this.cudaVersions.length ? { cudaVersions: this.cudaVersions } : {}),
      ...(this.networkVolume ? { networkVolume: this.networkVolume.toJSON() } : {}),
      ...(this.templateId ? { templateId: this.templateId } : {}),
    };
  }
}

/** A custom-image GPU endpoint (or CPU, when `instanceIds` is set); needs `imageName` or `templateId`. */
export class ServerlessEndpoint extends ServerlessResource {
  constructor(options: ServerlessResourceOptions) {
    super("ServerlessEndpoint", options, { cpu: false, lb: false });
    requireImage(this, "ServerlessEndpoint");
  }
}

/** A custom-image CPU endpoint; needs `imageName` or `templateId`. */
export class CpuServerlessEndpoint extends ServerlessResource {
  constructor(options: ServerlessResourceOptions) {
    super("CpuServerlessEndpoint", options, { cpu: true, lb: false });
    requireImage(this, "CpuServerlessEndpoint");
  }
}

/** A live GPU queue endpoint: flash ships your code to it (the default for GPU remote functions). */
export class LiveServerless extends ServerlessResource {
  constructor(options: ServerlessResourceOptions) {
    super("LiveServerless", options, { cpu: false, lb: false });
  }
}

/** A live CPU queue endpoint (instance types from `instanceIds`, default `cpu3g-2-8`). */
export class CpuLiveServerless extends ServerlessResource {
  constructor(options: ServerlessResourceOptions) {
    super("CpuLiveServerless", options, { cpu: true, lb: false });
  }
}

/** A live GPU load-balanced endpoint: remote functions on it are HTTP routes (`method` + `path`). */
export class LiveLoadBalancer extends ServerlessResource {
  constructor(options: ServerlessResourceOptions) {
    super("LiveLoadBalancer", options, { cpu: false, lb: true });
  }
}

/** A live CPU load-balanced endpoint (also the usual "mothership" of an example). */
export class CpuLiveLoadBalancer extends ServerlessResource {
  constructor(options: ServerlessResourceOptions) {
    super("CpuLiveLoadBalancer", options, { cpu: true, lb: true });
  }
}

/** Any resource config a remote function can run on. */
export type ResourceConfig = ServerlessResource;

/** True when `value` is a resource config (duck-typed by `kind`, so a second copy of this module still counts). */
export function isResourceConfig(value: unknown): value is ServerlessResource {
  const kind = (value as Record<string, unknown> | null)?.kind;
  return typeof kind === "string" && (CONFIG_KINDS as readonly string[]).includes(kind);
}

// ---- validation helpers: each names the config and the field ----

function requireImage(config: ServerlessResource, className: string): void {
  if (!config.imageName && !config.templateId) {
    throw new ConfigError(
      `${className} "${config.name}": needs imageName or templateId (or use ${className === "ServerlessEndpoint" ? "LiveServerless" : "CpuLiveServerless"} to run shipped code)`,
    );
  }
}

function requireName(where: string, name: unknown): string {
  if (typeof name !== "string" || name.trim() === "")
    throw new ConfigError(`${where}: name is required (a non-empty string)`);
  if (name !== name.trim()) throw new ConfigError(`${where}: name must not start or end with spaces`);
  return name;
}

function rejectUnknown(where: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = closest(key, known);
    throw new ConfigError(`${where}: unknown option "${key}"${guess ? ` (did you mean "${guess}"?)` : ""}`);
  }
}

function count(where: string, field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${where}: ${field} must be a whole number ≥ 0 (got ${JSON.stringify(value)})`);
  }
  return value;
}

function nonNegative(where: string, field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${where}: ${field} must be a number ≥ 0 (got ${JSON.stringify(value)})`);
  }
  return value;
}

function bool(where: string, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(`${where}: ${field} must be true or false`);
  return value;
}

function text(where: string, field: string, value: unknown): string {
  if (typeof value !== "string") throw new ConfigError(`${where}: ${field} must be a string`);
  return value;
}

/**
 * The `datacenter` option as a list without repeats: one id or several, each read as runpod/flash's
 * `DataCenter.from_string` does (trimmed, upper case, `_` as `-`: "eu_ro_1" is EU-RO-1). Unset or `[]`: none chosen.
 */
function dataCenters(where: string, value: unknown): DataCenter[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  const allowed: readonly string[] = Object.values(DataCenter);
  const out: DataCenter[] = [];
  for (const item of items) {
    const id = typeof item === "string" ? item.trim().toUpperCase().replaceAll("_", "-") : item;
    if (!allowed.includes(id as string)) {
      const guess = typeof id === "string" ? closest(id, allowed) : undefined;
      throw new ConfigError(
        `${where}: unknown datacenter ${JSON.stringify(item)}${guess ? ` (did you mean "${guess}"?)` : ""} ` +
          `(one of: ${allowed.join(", ")})`,
      );
    }
    if (!out.includes(id as DataCenter)) out.push(id as DataCenter);
  }
  return out;
}

function oneOf(where: string, field: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) {
    throw new ConfigError(`${where}: unknown ${field} ${JSON.stringify(value)} (one of: ${allowed.join(", ")})`);
  }
}

function list<T extends string>(
  where: string,
  field: string,
  value: unknown,
  fallback: T[],
  allowed: readonly string[],
): T[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value)) throw new ConfigError(`${where}: ${field} must be a list`);
  for (const item of value) {
    if (!allowed.includes(item)) {
      const guess = typeof item === "string" ? closest(item, allowed) : undefined;
      throw new ConfigError(
        `${where}: unknown ${field} entry ${JSON.stringify(item)}${guess ? ` (did you mean "${guess}"?)` : ""}`,
      );
    }
  }
  return [...new Set(value as T[])];
}

function stringMap(where: string, field: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new ConfigError(`${where}: ${field} must be an object of strings`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new ConfigError(`${where}: ${field}.${k} must be a string (got ${typeof v})`);
  }
  return { ...(value as Record<string, string>) };
}

/**
 * A config env value that stays home: on Runpod it is the reference `{{ RUNPOD_SECRET_<name> }}`, which Runpod
 * replaces with the account secret of that name when a worker starts (docs pods/templates/secrets), so the value is
 * never in a template, a manifest or an artifact. Local runs read the variable `<name>` from the environment
 * (`.env`) instead. Create the secret in the console (Secrets) before deploying.
 */
export function secret(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new ConfigError(`secret("${name}"): a secret name has letters, digits, "_", "." or "-" only`);
  }
  return secretRef(name);
}
