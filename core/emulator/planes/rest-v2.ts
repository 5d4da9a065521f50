/**
 * Runpod's REST API v2 (`https://api.runpod.io/v2`, runpod/docs api-reference-v2/openapi.json, vendored in
 * core/emulator/openapi-v2.json) for serverless endpoints, templates, network volumes and the catalog, over the emulator's
 * control plane: the paths flash and runpodctl use. Request bodies are checked against the document's own schemas
 * (unknown fields, the `oneOf` scaling union, `LOAD_BALANCER` requiring `REQUEST_COUNT`, CUDA patterns); the rules
 * the document states in prose (exactly one of `gpu`/`cpu`, a CUDA set beside a floor, vCPU counts, the compute
 * family on update) are checked here. Errors are `application/problem+json` (`title`, `status`, `detail`,
 * `errors[]`), every reply carries `RateLimit` / `RateLimit-Policy`, and a spent quota answers 429 with
 * `Retry-After`.
 *
 * An endpoint carries its own container settings in v2. The control plane (shared with GraphQL) keeps them in a
 * template bound to the endpoint: not listed under `/v2/templates`, deleted with the endpoint ("Permanently deletes a
 * serverless endpoint and its bound template"), never subject to the template deletion delay.
 */
import { Elysia } from "elysia";
import { CPU_FLAVORS, CUDA_VERSIONS, DATA_CENTERS, GPU_POOLS, isLocation, POOL_PRICE_PER_HOUR } from "../catalog";
import {
  type EmulatedEndpoint,
  type EmulatedTemplate,
  type EmulatedVolume,
  type EnvVar,
  RejectedInput,
  runpodId,
} from "../control-plane";
import { validateAgainst } from "../openapi-v2";
import type { EmulatorContext } from "./context";

/** Options of the v2 plane. */
export interface RestV2Options {
  /**
   * Requests per minute per key before 429. The document's example policy is 60 a minute; the emulator defaults to
   * 600 so that a test suite's provisioning is not throttled, and a test lowers it to see the 429.
   */
  perMinute?: number;
  /** Sees every exchange (the contract test checks each against the document). */
  observe?: (exchange: RestV2Exchange) => void;
}

/** One request to the v2 plane and its reply, as the contract test sees it. */
export interface RestV2Exchange {
  method: string;
  path: string;
  requestBody?: unknown;
  status: number;
  contentType: string | null;
  headers: Record<string, string>;
  responseBody?: unknown;
}

/** Paths of the v2 control plane (the queue API `/v2/{endpointId}/…` shares the prefix). */
export function isRestV2Path(path: string): boolean {
  return /^\/v2\/(serverless|templates|network-volumes|catalog)(\/|$)/.test(path);
}

/** The routes this plane serves and their methods (what a 405's `Allow` lists). */
const ROUTES: [RegExp, string][] = [
  [/^\/v2\/(serverless|templates|network-volumes)$/, "GET, POST"],
  [/^\/v2\/(serverless|templates|network-volumes)\/[^/]+$/, "GET, PATCH, DELETE"],
  [/^\/v2\/serverless\/[^/]+\/workers$/, "GET"],
  [/^\/v2\/catalog\/(gpus|cpus|datacenters)$/, "GET"],
];

/**
 * A v2 request no route took: 405 with `Allow` when the path exists under another method (the document's
 * MethodNotAllowedError), else 404; both problem+json.
 */
export function restV2Unrouted(method: string, path: string): Response {
  const allow = ROUTES.find(([re]) => re.test(path))?.[1];
  if (allow) return problem(405, `${method} is not supported for ${path}`, undefined, { Allow: allow });
  return problem(404, `no such resource: ${path}`);
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
};

/** An `application/problem+json` reply (schema ErrorResponse). */
export function problem(status: number, detail: string, errors?: string[], headers: Record<string, string> = {}) {
  const body: Record<string, unknown> = { title: TITLES[status] ?? "Error", status, detail };
  if (errors?.length) body.errors = errors;
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** A rule the document states in prose was broken (400), or the schema refused the body (422). */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: string[],
  ) {
    super(message);
  }
}

const envObject = (env: EnvVar[]) => Object.fromEntries(env.map((v) => [v.key, v.value]));
const envList = (env: Record<string, string>): EnvVar[] =>
  Object.entries(env).map(([key, value]) => ({ key, value: String(value) }));

/** `cpu3c-2-4` → `{id: "cpu3c", vcpuCount: 2, memory: 4}` (schema CpuConfig). */
function cpuConfigOf(instanceId: string) {
  const [id, vcpus, memory] = instanceId.split("-");
  return { id: id!, vcpuCount: Number(vcpus), memory: Number(memory) };
}

/**
 * `{id, vcpuCount}` → the control plane's instance id. The document: the flavour comes from `GET /v2/catalog/cpus`,
 * and the count "must be valid for the selected CPU flavor and must be a power of two".
 */
function instanceOf(cpu: { id: string; vcpuCount: number }): string {
  const flavor = CPU_FLAVORS[cpu.id];
  if (!flavor) {
    throw new Refused(
      400,
      `cpu: unknown CPU flavor "${cpu.id}" (GET /v2/catalog/cpus lists ${Object.keys(CPU_FLAVORS).join(", ")})`,
    );
  }
  const n = cpu.vcpuCount;
  if ((n & (n - 1)) !== 0 || n < flavor.min || n > flavor.max) {
    throw new Refused(
      400,
      `cpu: ${n} vCPUs is not valid for ${cpu.id} (a power of two from ${flavor.min} to ${flavor.max})`,
    );
  }
  return `${cpu.id}-${n}-${n * flavor.ramGbPerVcpu}`;
}

/** The pools and exclusions of a GraphQL `gpuIds` string (`ADA_24,AMPERE_16,-NVIDIA L4`). */
function gpuSelection(gpuIds: string): { pools: string[]; excludedTypes: string[] } {
  const parts = gpuIds
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    pools: parts.filter((p) => !p.startsWith("-")),
    excludedTypes: parts.filter((p) => p.startsWith("-")).map((p) => p.slice(1)),
  };
}

/** `gpu.pools` + `gpu.excludedTypes` → `gpuIds`; an exclusion must be a type of one of the pools (400). */
function gpuIdsOf(pools: string[], excluded: string[] = []): string {
  for (const p of pools) {
    if (!GPU_POOLS[p]) {
      throw new Refused(400, `gpu.pools: unknown pool "${p}" (GET /v2/catalog/gpus lists each type's pool)`);
    }
  }
  const types = new Set(pools.flatMap((p) => GPU_POOLS[p]!.models));
  for (const raw of excluded) {
    const t = raw.trim();
    if (!types.has(t)) throw new Refused(400, `gpu.excludedTypes: "${t}" is not a GPU type in ${pools.join(", ")}`);
  }
  if (types.size === excluded.length) throw new Refused(400, "gpu.excludedTypes leaves no GPU type in the pools");
  return [...pools, ...excluded.map((t) => `-${t.trim()}`)].join(",");
}

/** "A non-empty set and a floor are mutually exclusive (400 if both are sent)". */
function checkCuda(allowed: string[] | undefined, min: string | undefined): void {
  if (allowed?.length && min) {
    throw new Refused(400, "gpu.allowedCudaVersions (non-empty) and gpu.minCudaVersion are mutually exclusive");
  }
  for (const v of allowed ?? []) {
    if (!CUDA_VERSIONS.includes(v)) throw new Refused(400, `gpu.allowedCudaVersions: unknown CUDA version "${v}"`);
  }
  if (min && !CUDA_VERSIONS.includes(min)) throw new Refused(400, `gpu.minCudaVersion: unknown CUDA version "${min}"`);
}

function parseBody(text: string): Record<string, any> {
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new Refused(400, "request body is not valid JSON");
  }
}

/** Validate a body against one of the document's request schemas (422 with the document's failures). */
function conform(schema: string, body: unknown): void {
  const errors = validateAgainst(schema, body);
  if (errors.length) throw new Refused(422, "Request validation failed.", errors);
}

/** Per-key minute window (the document's `RateLimit` / `RateLimit-Policy` structured fields). */
class RateWindow {
  private readonly used = new Map<string, { start: number; count: number }>();
  constructor(private readonly quota: number) {}
  /** Count one request; the headers to send and, when the quota is spent, the seconds to wait. */
  take(key: string): { headers: Record<string, string>; retryAfter?: number } {
    const now = Date.now();
    let w = this.used.get(key);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0 };
      this.used.set(key, w);
    }
    const reset = Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
    const over = w.count >= this.quota;
    if (!over) w.count++;
    const headers = {
      RateLimit: `"minute";r=${this.quota - w.count};t=${reset}`,
      "RateLimit-Policy": `"minute";q=${this.quota};w=60`,
    };
    return over ? { headers, retryAfter: reset } : { headers };
  }
}

/** The v2 control-plane routes on the emulator's control plane (an Elysia plugin). */
export function restV2Plane(emu: EmulatorContext, opts: RestV2Options = {}) {
  const { control } = emu;
  const ctx = {
    ...opts,
    supervisor: emu.supervisor,
    urls: () => ({ endpointBaseUrl: `${emu.baseUrl()}/v2`, lbBaseUrl: `${emu.baseUrl()}/lb/{id}` }),
  };
  /** Templates bound to endpoints (created from an endpoint's container settings). */
  const bound = new Set<string>();
  /** v2 template fields the GraphQL store has no column for. */
  const templateExtras = new Map<string, { category: string; allowedCudaVersions: string[] }>();
  /** v2 network-volume storage tiers. */
  const volumeTypes = new Map<string, string>();
  const limits = new RateWindow(ctx.perMinute ?? 600);

  const requestUrls = (e: EmulatedEndpoint) => {
    const { endpointBaseUrl, lbBaseUrl } = ctx.urls();
    if (e.type === "LB") {
      const base = lbBaseUrl.replaceAll("{id}", e.id);
      const t = control.templateOf(e);
      const path = t?.env.find((v) => v.key === "HEALTH_CHECK_PATH")?.value ?? "/ping";
      return { base, health: `${base}${path}` };
    }
    const q = `${endpointBaseUrl}/${e.id}`;
    return {
      run: `${q}/run`,
      runSync: `${q}/runsync`,
      status: `${q}/status/{job_id}`,
      stream: `${q}/stream/{job_id}`,
      cancel: `${q}/cancel/{job_id}`,
      retry: `${q}/retry/{job_id}`,
      purgeQueue: `${q}/purge-queue`,
      health: `${q}/health`,
    };
  };

  /** An endpoint as the document's `Endpoint` schema shows it. */
  const endpointView = (e: EmulatedEndpoint): Record<string, unknown> => {
    const t = control.templateOf(e);
    const cpu = !!e.instanceIds?.length;
    const requestCount = e.scalerType === "REQUEST_COUNT";
    const view: Record<string, unknown> = {
      id: e.id,
      name: e.name,
      type: e.type === "LB" ? "LOAD_BALANCER" : "QUEUE",
      requestUrls: requestUrls(e),
      image: t?.imageName ?? "",
      args: t?.dockerArgs ?? "",
      disk: t?.containerDiskInGb ?? 1,
      ports: t?.ports ? t.ports.split(",").filter(Boolean) : [],
      env: envObject(t?.env ?? []),
      registry: t?.containerRegistryAuthId ?? null,
      workers: {
        min: e.workersMin,
        max: e.workersMax,
        // "Not applicable to queue-based endpoints scaling on requestCount — … omitted from responses".
        ...(e.type === "QB" && requestCount ? {} : { idleTimeout: e.idleTimeout }),
      },
      scaling: requestCount
        ? { type: "REQUEST_COUNT", requestCount: e.scalerValue }
        : { type: "QUEUE_DELAY", queueDelay: e.scalerValue },
      dataCenterIds: e.locations ? e.locations.split(",") : [],
      networkVolumes: e.networkVolumeId ? [e.networkVolumeId] : [],
      timeout: e.executionTimeoutMs,
      flashboot: e.flashBootType === "FLASHBOOT" || e.flashBootType === "PRIORITY_FLASHBOOT" ? e.flashBootType : "OFF",
      createdAt: e.createdAt,
    };
    if (cpu) view.cpu = e.instanceIds!.map(cpuConfigOf);
    else {
      const { pools, excludedTypes } = gpuSelection(e.gpuIds);
      view.gpu = {
        pools,
        ...(excludedTypes.length ? { excludedTypes } : {}),
        count: e.gpuCount,
        allowedCudaVersions: e.allowedCudaVersions ? e.allowedCudaVersions.split(",") : [],
        minCudaVersion: e.minCudaVersion,
      };
    }
    return view;
  };

  const templateView = (t: EmulatedTemplate): Record<string, unknown> => {
    const extra = templateExtras.get(t.id);
    return {
      id: t.id,
      name: t.name,
      image: t.imageName,
      args: t.dockerArgs,
      disk: t.containerDiskInGb,
      mounts: t.volumeInGb ? { persistent: { size: t.volumeInGb, path: t.volumeMountPath ?? "/workspace" } } : {},
      ports: t.ports ? t.ports.split(",").filter(Boolean) : [],
      env: envObject(t.env),
      registry: t.containerRegistryAuthId,
      serverless: t.isServerless,
      public: t.isPublic,
      category: extra?.category ?? "NVIDIA",
      startSsh: t.startSsh,
      startJupyter: t.startJupyter,
      allowedCudaVersions: extra?.allowedCudaVersions ?? [],
    };
  };

  const volumeView = (v: EmulatedVolume) => ({
    id: v.id,
    name: v.name,
    size: v.size,
    dataCenter: v.dataCenterId,
    type: volumeTypes.get(v.id) ?? "STANDARD",
  });

  /** Container settings of a body (`image`, `args`, `disk`, `ports`, `env`, `registry`) as template fields. */
  const containerFields = (body: Record<string, any>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (body.image !== undefined) out.imageName = body.image;
    if (body.args !== undefined) out.dockerArgs = body.args;
    if (body.disk !== undefined) out.containerDiskInGb = body.disk;
    if (body.ports !== undefined) out.ports = (body.ports as string[]).join(",") || null;
    if (body.env !== undefined) out.env = envList(body.env);
    if (body.registry !== undefined) out.containerRegistryAuthId = body.registry;
    return out;
  };

  /** The stored fields of a template (the base a partial change starts from). */
  const templateInput = (t: EmulatedTemplate): Record<string, unknown> => ({
    id: t.id,
    name: t.name,
    imageName: t.imageName,
    dockerArgs: t.dockerArgs,
    containerDiskInGb: t.containerDiskInGb,
    volumeInGb: t.volumeInGb,
    volumeMountPath: t.volumeMountPath,
    ports: t.ports,
    env: t.env,
    isServerless: t.isServerless,
    isPublic: t.isPublic,
    startSsh: t.startSsh,
    startJupyter: t.startJupyter,
    containerRegistryAuthId: t.containerRegistryAuthId,
    readme: t.readme,
  });

  /** A template named by `templateId` in an endpoint body: it must exist (404) and be a serverless one (422). */
  const sourceTemplate = (id: string): EmulatedTemplate => {
    const t = control.templates.get(id);
    if (!t || bound.has(id)) throw new Refused(404, `template ${id} not found`);
    if (!t.isServerless) throw new Refused(422, `template ${id} is not a serverless template`);
    return t;
  };

  /** A fresh template bound to an endpoint, from a source template's settings and the body's. */
  const bindTemplate = (endpointName: string, base: Record<string, unknown>, body: Record<string, any>) => {
    const fields = containerFields(body);
    // `env` "is merged per key with body values winning".
    if (body.env !== undefined && Array.isArray(base.env)) {
      fields.env = envList({ ...envObject(base.env as EnvVar[]), ...body.env });
    }
    const t = control.saveTemplate({
      containerDiskInGb: 20,
      volumeInGb: 0,
      env: [],
      ...base,
      ...fields,
      id: undefined,
      name: `${endpointName}__${runpodId().slice(0, 10)}`,
      isServerless: true,
    });
    bound.add(t.id);
    return t;
  };

  /** A control-plane EndpointInput's compute, scaling and placement fields from a create or update body. */
  const endpointFields = (body: Record<string, any>, type: "QB" | "LB", current?: EmulatedEndpoint) => {
    const out: Record<string, unknown> = {};
    if (body.name !== undefined) out.name = body.name;
    if (body.gpu && body.cpu) throw new Refused(400, "send exactly one of gpu or cpu, not both");
    const cpuEndpoint = current ? !!current.instanceIds?.length : !!body.cpu;
    if (current && body.gpu && cpuEndpoint)
      throw new Refused(400, "gpu on a CPU endpoint: the compute family is immutable");
    if (current && body.cpu && !cpuEndpoint)
      throw new Refused(400, "cpu on a GPU endpoint: the compute family is immutable");
    if (body.cpu) {
      const ids = (body.cpu as { id: string; vcpuCount: number }[]).map(instanceOf);
      if (new Set(ids).size !== ids.length) throw new Refused(400, "cpu: duplicate configuration");
      out.instanceIds = ids;
      out.gpuIds = "";
      out.gpuCount = 0;
    }
    if (body.gpu) {
      const gpu = body.gpu as {
        pools?: string[];
        excludedTypes?: string[];
        count?: number;
        allowedCudaVersions?: string[];
        minCudaVersion?: string;
      };
      if (gpu.pools) out.gpuIds = gpuIdsOf(gpu.pools, gpu.excludedTypes);
      if (gpu.count !== undefined) out.gpuCount = gpu.count;
      // The constraint after this change (a PATCH "does not clear the other"): a set beside a floor is a 400.
      const allowed = gpu.allowedCudaVersions ?? current?.allowedCudaVersions?.split(",").filter(Boolean);
      const min = gpu.minCudaVersion !== undefined ? gpu.minCudaVersion : (current?.minCudaVersion ?? undefined);
      checkCuda(allowed, min || undefined);
      if (gpu.allowedCudaVersions !== undefined) out.allowedCudaVersions = gpu.allowedCudaVersions.join(",") || null;
      if (gpu.minCudaVersion !== undefined) out.minCudaVersion = gpu.minCudaVersion || null;
    }
    const scaling = body.scaling as { type: string; queueDelay?: number; requestCount?: number } | undefined;
    const scalerType = scaling?.type ?? current?.scalerType;
    if (scaling) {
      out.scalerType = scaling.type;
      // The control plane keeps whole scaler values (GraphQL `scalerValue: Int`); a half-second queue delay rounds up.
      out.scalerValue = Math.max(1, Math.ceil(scaling.queueDelay ?? scaling.requestCount ?? 1));
    }
    if (type === "LB" && scalerType === "QUEUE_DELAY") {
      throw new Refused(400, "scaling: a LOAD_BALANCER endpoint scales on REQUEST_COUNT");
    }
    if (body.workers) {
      const w = body.workers as { min?: number; max?: number; idleTimeout?: number };
      if (w.idleTimeout !== undefined && type === "QB" && scalerType === "REQUEST_COUNT") {
        throw new Refused(400, "workers.idleTimeout does not apply to a queue endpoint scaling on requestCount");
      }
      if (w.min !== undefined) out.workersMin = w.min;
      if (w.max !== undefined) out.workersMax = w.max;
      if (w.idleTimeout !== undefined) out.idleTimeout = w.idleTimeout;
    }
    if (body.dataCenterIds !== undefined) {
      for (const d of body.dataCenterIds as string[]) {
        if (!isLocation(d)) throw new Refused(400, `dataCenterIds: "${d}" is not a data-center id such as EU-RO-1`);
      }
      out.locations = (body.dataCenterIds as string[]).join(",") || null;
    }
    if (body.networkVolumes !== undefined) {
      const ids = body.networkVolumes as string[];
      // The control plane mounts one volume per endpoint (GraphQL `networkVolumeId`).
      if (ids.length > 1) throw new Refused(400, "networkVolumes: the emulator mounts at most one network volume");
      out.networkVolumeId = ids[0] ?? null;
    }
    if (body.timeout !== undefined) out.executionTimeoutMs = body.timeout;
    if (body.flashboot !== undefined) out.flashBootType = body.flashboot;
    return out;
  };

  const createEndpoint = (body: Record<string, any>) => {
    conform("CreateEndpointRequest", body);
    if (body.gpu && body.cpu) throw new Refused(400, "send exactly one of gpu or cpu, not both");
    if (!body.gpu && !body.cpu) throw new Refused(400, "send exactly one of gpu or cpu");
    const type = body.type === "LOAD_BALANCER" ? "LB" : "QB";
    const fields = endpointFields(body, type);
    const base = body.templateId ? templateInput(sourceTemplate(body.templateId)) : {};
    if (body.templateId && body.gpu && body.gpu.allowedCudaVersions === undefined && !body.gpu.minCudaVersion) {
      // "The template's allowedCudaVersions seeds gpu.allowedCudaVersions when the body omits it".
      const seeded = templateExtras.get(body.templateId)?.allowedCudaVersions ?? [];
      if (seeded.length) fields.allowedCudaVersions = seeded.join(",");
    }
    const template = bindTemplate(body.name, base, body);
    try {
      const saved = control.saveEndpoint({
        workersMin: 0,
        workersMax: 3,
        idleTimeout: 10,
        executionTimeoutMs: 300_000,
        flashBootType: "OFF",
        scalerType: body.scaling.type,
        ...fields,
        type,
        templateId: template.id,
      });
      return json(201, endpointView(saved));
    } catch (err) {
      control.templates.delete(template.id);
      bound.delete(template.id);
      throw err;
    }
  };

  const currentEndpointInput = (e: EmulatedEndpoint): Record<string, unknown> => ({
    id: e.id,
    name: e.name,
    templateId: e.templateId,
    type: e.type,
    gpuIds: e.gpuIds,
    gpuCount: e.gpuCount,
    instanceIds: e.instanceIds,
    workersMin: e.workersMin,
    workersMax: e.workersMax,
    idleTimeout: e.idleTimeout,
    scalerType: e.scalerType,
    scalerValue: e.scalerValue,
    locations: e.locations,
    networkVolumeId: e.networkVolumeId,
    flashBootType: e.flashBootType,
    allowedCudaVersions: e.allowedCudaVersions,
    minCudaVersion: e.minCudaVersion,
    executionTimeoutMs: e.executionTimeoutMs,
    flashEnvironmentId: e.flashEnvironmentId,
    workersPFBTarget: e.workersPFBTarget,
  });

  const updateEndpoint = (id: string, body: Record<string, any>) => {
    const e = control.endpoints.get(id);
    if (!e) throw new Refused(404, `endpoint ${id} not found`);
    conform("UpdateEndpointRequest", body);
    const fields = endpointFields(body, e.type, e);
    const container = containerFields(body);
    let templateId = e.templateId;
    if (body.templateId || Object.keys(container).length) {
      // Container changes make a new release: the bound template changes (a GraphQL-made endpoint gets its own).
      const current = control.templates.get(e.templateId);
      const base = body.templateId
        ? templateInput(sourceTemplate(body.templateId))
        : current
          ? templateInput(current)
          : {};
      if (current && bound.has(current.id) && !body.templateId) {
        control.saveTemplate({ ...templateInput(current), ...container });
      } else templateId = bindTemplate(e.name, base, body).id;
    }
    const previousTemplate = e.templateId;
    const saved = control.saveEndpoint({ ...currentEndpointInput(e), ...fields, templateId });
    if (previousTemplate !== templateId && bound.has(previousTemplate)) {
      control.templates.delete(previousTemplate);
      bound.delete(previousTemplate);
    }
    return json(200, endpointView(saved));
  };

  const deleteEndpoint = (id: string) => {
    const e = control.endpoints.get(id);
    if (!e) throw new Refused(404, `endpoint ${id} not found`);
    // No 0/0 step in v2: "all workers are terminated and any queued or in-progress jobs are cancelled".
    control.deleteEndpoint(id, false);
    if (bound.delete(e.templateId)) control.templates.delete(e.templateId);
    return new Response(null, { status: 204 });
  };

  const workersOf = (id: string) => {
    const e = control.endpoints.get(id);
    if (!e) throw new Refused(404, `endpoint ${id} not found`);
    const t = control.templateOf(e);
    const workers = ctx.supervisor.alive(id).map((w) => ({
      id: w.id,
      status:
        w.state === "initializing" ? "INITIALIZING" : w.state === "running" || w.inflight > 0 ? "RUNNING" : "IDLE",
      // The planes see no worker's config version: "Null if unknown", and not known to be stale.
      isStale: false,
      version: null,
      gpuCount: e.instanceIds?.length ? 0 : e.gpuCount,
      image: t?.imageName ?? null,
      uptimeSeconds: Math.floor((Date.now() - w.startedAt) / 1000),
      gpuTypeId: e.instanceIds?.length ? null : (GPU_POOLS[gpuSelection(e.gpuIds).pools[0] ?? ""]?.models[0] ?? null),
      // Placed where its volume is ("constrained to the datacenter where the volume is located":
      // docs.runpod.io/storage/network-volumes), else in the first data center it allows.
      dataCenterId:
        (e.networkVolumeId ? control.volumes.get(e.networkVolumeId)?.dataCenterId : undefined) ??
        e.locations?.split(",")[0] ??
        "EU-RO-1",
      startedAt: new Date(w.startedAt).toISOString(),
    }));
    const count = (s: string) => workers.filter((w) => w.status === s).length;
    return json(200, {
      workers,
      summary: {
        running: count("RUNNING"),
        idle: count("IDLE"),
        initializing: count("INITIALIZING"),
        throttled: 0,
        unhealthy: 0,
        total: workers.length,
      },
      endpointVersion: e.version,
    });
  };

  const createTemplate = (body: Record<string, any>) => {
    conform("CreateTemplateRequest", body);
    checkCuda(body.allowedCudaVersions, undefined);
    const t = control.saveTemplate({
      containerDiskInGb: 20,
      volumeInGb: body.mounts?.persistent?.size ?? 0,
      volumeMountPath: body.mounts?.persistent?.path ?? null,
      env: [],
      ...containerFields(body),
      name: body.name,
      isServerless: body.serverless ?? false,
      isPublic: body.public ?? false,
      startSsh: body.startSsh ?? true,
      startJupyter: body.startJupyter ?? true,
    });
    templateExtras.set(t.id, {
      category: body.category ?? "NVIDIA",
      allowedCudaVersions: body.allowedCudaVersions ?? [],
    });
    return json(201, templateView(t));
  };

  const ownTemplate = (id: string): EmulatedTemplate => {
    const t = control.templates.get(id);
    if (!t || bound.has(id)) throw new Refused(404, `template ${id} not found`);
    return t;
  };

  const updateTemplate = (id: string, body: Record<string, any>) => {
    const t = ownTemplate(id);
    conform("UpdateTemplateRequest", body);
    checkCuda(body.allowedCudaVersions, undefined);
    const changes: Record<string, unknown> = containerFields(body);
    if (body.name !== undefined) changes.name = body.name;
    if (body.serverless !== undefined) changes.isServerless = body.serverless;
    if (body.public !== undefined) changes.isPublic = body.public;
    if (body.startSsh !== undefined) changes.startSsh = body.startSsh;
    if (body.startJupyter !== undefined) changes.startJupyter = body.startJupyter;
    if (body.mounts?.persistent) {
      changes.volumeInGb = body.mounts.persistent.size ?? t.volumeInGb;
      changes.volumeMountPath = body.mounts.persistent.path ?? t.volumeMountPath;
    }
    const saved = control.saveTemplate({ ...templateInput(t), ...changes });
    const extra = templateExtras.get(id) ?? { category: "NVIDIA", allowedCudaVersions: [] };
    templateExtras.set(id, {
      category: body.category ?? extra.category,
      allowedCudaVersions: body.allowedCudaVersions ?? extra.allowedCudaVersions,
    });
    return json(200, templateView(saved));
  };

  const deleteTemplate = (id: string) => {
    const t = ownTemplate(id);
    // "Rejected if the template is … bound to a serverless endpoint" (an endpoint made through GraphQL uses it).
    const user = [...control.endpoints.values()].find((e) => e.templateId === id);
    if (user) throw new Refused(400, `template ${id} is bound to endpoint ${user.id}`);
    control.templates.delete(id);
    templateExtras.delete(id);
    return new Response(null, { status: 204 });
  };

  const createVolume = (body: Record<string, any>) => {
    conform("CreateNetworkVolumeRequest", body);
    if (!isLocation(body.dataCenter)) {
      throw new Refused(400, `dataCenter: "${body.dataCenter}" is not a data-center id such as EU-RO-1`);
    }
    const v = control.createVolume({ name: body.name, size: body.size, dataCenterId: body.dataCenter });
    volumeTypes.set(v.id, body.type ?? "STANDARD");
    return json(201, volumeView(v));
  };

  const updateVolume = (id: string, body: Record<string, any>) => {
    const v = control.volumes.get(id);
    if (!v) throw new Refused(404, `network volume ${id} not found`);
    conform("UpdateNetworkVolumeRequest", body);
    if (body.size !== undefined && body.size < v.size) {
      throw new Refused(400, `size: network volume storage cannot be reduced (${v.size} GB now, ${body.size} asked)`);
    }
    if (body.name !== undefined) v.name = body.name;
    if (body.size !== undefined) v.size = body.size;
    return json(200, volumeView(v));
  };

  const deleteVolume = (id: string) => {
    if (!control.volumes.has(id)) throw new Refused(404, `network volume ${id} not found`);
    control.deleteVolume(id);
    volumeTypes.delete(id);
    return new Response(null, { status: 204 });
  };

  const catalogGpus = (query: Record<string, string | undefined>) => {
    const availability = availabilityWanted(query);
    const gpus = Object.entries(GPU_POOLS).flatMap(([pool, p]) =>
      p.models.map((id) => {
        const price = POOL_PRICE_PER_HOUR[pool];
        const gpu: Record<string, unknown> = {
          id,
          name: id.replace(/^NVIDIA (GeForce )?/, ""),
          pool,
          manufacturer: "NVIDIA",
          memory: p.memoryInGb,
          secure: true,
          community: false,
          // Pod prices are not modelled: the emulator quotes the serverless rate for every product.
          price: { secure: price ?? 0, community: price ?? 0, ...(price !== undefined ? { serverless: price } : {}) },
          maxCount: { secure: 8, community: 0 },
        };
        if (availability) {
          gpu.availability = "HIGH";
          gpu.dataCenters = Object.entries(DATA_CENTERS).map(([dc, d]) => ({
            id: dc,
            name: d.name,
            availability: "HIGH",
          }));
          gpu.cudaVersions = CUDA_VERSIONS.map((version) => ({ version, available: true }));
        }
        return gpu;
      }),
    );
    return json(200, { gpus });
  };

  const catalogCpus = (query: Record<string, string | undefined>) => {
    const availability = availabilityWanted(query);
    const cpus = Object.entries(CPU_FLAVORS).map(([id, f]) => ({
      id,
      name: f.name,
      group: f.group,
      vcpu: { min: f.min, max: f.max },
      ramGbPerVcpu: f.ramGbPerVcpu,
      price: { securePerVcpu: 0.04, serverlessPerVcpu: 0.05 },
      ...(availability
        ? {
            availability: "HIGH",
            // runpod/flash datacenter.py: CPU serverless runs only in EU-RO-1.
            dataCenters: [{ id: "EU-RO-1", name: DATA_CENTERS["EU-RO-1"]!.name, availability: "HIGH" }],
          }
        : {}),
    }));
    return json(200, { cpus });
  };

  const catalogDataCenters = () =>
    json(200, {
      dataCenters: Object.entries(DATA_CENTERS).map(([id, d]) => ({
        id,
        name: d.name,
        region: d.region,
        globalNetwork: false,
        networkVolumeTypes: ["STANDARD"],
        compliance: [],
      })),
    });

  /** Run a handler; refusals and control-plane rejections become problem+json, with the rate-limit headers. */
  const answer = async (request: Request, run: (body: Record<string, any>) => Response) => {
    const key = request.headers.get("authorization") ?? "";
    const quota = limits.take(key);
    if (quota.retryAfter !== undefined) {
      return problem(429, "rate limit exceeded for the minute window", undefined, {
        ...quota.headers,
        "Retry-After": String(quota.retryAfter),
      });
    }
    let res: Response;
    const hasBody = request.method === "POST" || request.method === "PATCH";
    const text = hasBody ? await request.text() : "";
    try {
      res = run(hasBody ? parseBody(text) : {});
    } catch (err) {
      if (err instanceof Refused) res = problem(err.status, err.message, err.errors);
      else if (err instanceof RejectedInput) {
        res = problem(/not found/i.test(err.message) ? 404 : 400, err.message);
      } else throw err;
    }
    for (const [k, v] of Object.entries(quota.headers)) res.headers.set(k, v);
    if (ctx.observe) await report(ctx.observe, request, text, res);
    return res;
  };

  return new Elysia({ name: "rest-v2" })
    .get("/v2/serverless", ({ request }) =>
      answer(request, () => json(200, { endpoints: [...control.endpoints.values()].map(endpointView) })),
    )
    .post("/v2/serverless", ({ request }) => answer(request, createEndpoint), { parse: "none" })
    .get("/v2/serverless/:ep", ({ request, params }) =>
      answer(request, () => {
        const e = control.endpoints.get(params.ep);
        if (!e) throw new Refused(404, `endpoint ${params.ep} not found`);
        return json(200, endpointView(e));
      }),
    )
    .patch("/v2/serverless/:ep", ({ request, params }) => answer(request, (b) => updateEndpoint(params.ep, b)), {
      parse: "none",
    })
    .delete("/v2/serverless/:ep", ({ request, params }) => answer(request, () => deleteEndpoint(params.ep)))
    .get("/v2/serverless/:ep/workers", ({ request, params }) => answer(request, () => workersOf(params.ep)))
    .get("/v2/templates", ({ request }) =>
      answer(request, () =>
        json(200, {
          templates: [...control.templates.values()].filter((t) => !bound.has(t.id)).map(templateView),
        }),
      ),
    )
    .post("/v2/templates", ({ request }) => answer(request, createTemplate), { parse: "none" })
    .get("/v2/templates/:id", ({ request, params }) =>
      answer(request, () => json(200, templateView(ownTemplate(params.id)))),
    )
    .patch("/v2/templates/:id", ({ request, params }) => answer(request, (b) => updateTemplate(params.id, b)), {
      parse: "none",
    })
    .delete("/v2/templates/:id", ({ request, params }) => answer(request, () => deleteTemplate(params.id)))
    .get("/v2/network-volumes", ({ request }) =>
      answer(request, () => json(200, { networkVolumes: [...control.volumes.values()].map(volumeView) })),
    )
    .post("/v2/network-volumes", ({ request }) => answer(request, createVolume), { parse: "none" })
    .get("/v2/network-volumes/:id", ({ request, params }) =>
      answer(request, () => {
        const v = control.volumes.get(params.id);
        if (!v) throw new Refused(404, `network volume ${params.id} not found`);
        return json(200, volumeView(v));
      }),
    )
    .patch("/v2/network-volumes/:id", ({ request, params }) => answer(request, (b) => updateVolume(params.id, b)), {
      parse: "none",
    })
    .delete("/v2/network-volumes/:id", ({ request, params }) => answer(request, () => deleteVolume(params.id)))
    .get("/v2/catalog/gpus", ({ request, query }) => answer(request, () => catalogGpus(query)))
    .get("/v2/catalog/cpus", ({ request, query }) => answer(request, () => catalogCpus(query)))
    .get("/v2/catalog/datacenters", ({ request }) => answer(request, catalogDataCenters));
}

async function report(observe: (e: RestV2Exchange) => void, request: Request, text: string, res: Response) {
  const body = await res.clone().text();
  const parse = (t: string) => {
    try {
      return t ? JSON.parse(t) : undefined;
    } catch {
      return t;
    }
  };
  observe({
    method: request.method,
    path: new URL(request.url).pathname + new URL(request.url).search,
    requestBody: parse(text),
    status: res.status,
    contentType: res.headers.get("content-type"),
    headers: Object.fromEntries([...(res.headers as unknown as Iterable<[string, string]>)]),
    responseBody: parse(body),
  });
}

/** `include=AVAILABILITY` needs `product`, and `product` needs the include ("400 either way"). */
function availabilityWanted(query: Record<string, string | undefined>): boolean {
  const include = (query.include ?? "").split(",").filter(Boolean);
  for (const i of include) {
    if (i !== "AVAILABILITY") throw new Refused(400, `include: unknown expansion "${i}" (supported: AVAILABILITY)`);
  }
  const wanted = include.includes("AVAILABILITY");
  if (wanted !== !!query.product) throw new Refused(400, "include=AVAILABILITY and product go together");
  for (const p of (query.product ?? "").split(",").filter(Boolean)) {
    if (!["POD", "CLUSTER", "SERVERLESS"].includes(p)) throw new Refused(400, `product: unknown product "${p}"`);
  }
  return wanted;
}
