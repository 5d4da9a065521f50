/**
 * Runpod's REST API v2 (`${RUNPOD_API_BASE_URL}/v2`, default https://api.runpod.io/v2), as its published OpenAPI
 * document describes it (runpod/docs api-reference-v2/openapi.json; vendored in core/emulator/): serverless
 * endpoints, templates, network volumes and the catalog. GraphQL is retired in early 2027 (runpod/docs release
 * notes), so flash provisions through this client; what v2 has no surface for stays in graphql.ts.
 *
 * Errors are `application/problem+json` (`title`, `status`, `detail`, `errors[]`) and reach the user in those words.
 * Every reply may carry `RateLimit: "minute";r=0;t=12, …` (the IETF ratelimit-headers draft the document cites): when
 * a window is spent the next request waits until it resets, and a 429 is retried after its `Retry-After`.
 */
import { logger } from "../base/log";
import { RunpodApiError, type RunpodHttp } from "./http";

const rlog = logger("runpod");

/** `major.minor` CUDA constraints of a GPU endpoint. */
export interface V2Gpu {
  pools: string[];
  excludedTypes?: string[];
  count?: number;
  allowedCudaVersions?: string[];
  minCudaVersion?: string;
}

/** Scaling: a union on `type` (schema EndpointScaling). */
export type V2Scaling = { type: "QUEUE_DELAY"; queueDelay: number } | { type: "REQUEST_COUNT"; requestCount: number };

/** Container settings an endpoint or template carries (schema ContainerConfig). */
export interface V2Container {
  image?: string;
  args?: string;
  disk?: number;
  ports?: string[];
  env?: Record<string, string>;
  registry?: string | null;
}

/** The body of `POST /v2/serverless` (schema CreateEndpointRequest). */
export interface V2EndpointCreate extends V2Container {
  name: string;
  type: "QUEUE" | "LOAD_BALANCER";
  templateId?: string;
  gpu?: V2Gpu;
  cpu?: { id: string; vcpuCount: number }[];
  workers?: { min?: number; max?: number; idleTimeout?: number };
  scaling: V2Scaling;
  dataCenterIds?: string[];
  networkVolumes?: string[];
  timeout?: number;
  flashboot?: "OFF" | "FLASHBOOT" | "PRIORITY_FLASHBOOT";
}

/** The body of `PATCH /v2/serverless/{id}` (schema UpdateEndpointRequest: no `type`, everything optional). */
export type V2EndpointUpdate = Partial<Omit<V2EndpointCreate, "type" | "gpu">> & { gpu?: Partial<V2Gpu> };

/** An endpoint as v2 returns it (schema Endpoint). */
export interface V2Endpoint extends V2Container {
  id: string;
  name: string;
  type?: "QUEUE" | "LOAD_BALANCER";
  requestUrls?: Record<string, string>;
  gpu?: {
    pools: string[];
    excludedTypes?: string[];
    count: number;
    allowedCudaVersions: string[];
    minCudaVersion: string | null;
  } | null;
  cpu?: { id: string; vcpuCount: number; memory: number }[];
  workers: { min: number; max: number; idleTimeout?: number };
  scaling: V2Scaling;
  dataCenterIds: string[];
  networkVolumes: string[];
  timeout: number;
  flashboot: string;
  createdAt: string;
}

/** A template (schema Template, the fields flash reads). */
export interface V2Template extends V2Container {
  id: string;
  name: string;
  serverless: boolean;
}

/** A network volume (schema NetworkVolume). */
export interface V2NetworkVolume {
  id: string;
  name: string;
  size: number;
  dataCenter: string;
  type: "STANDARD" | "HIGH_PERFORMANCE";
}

/** A GPU type of the catalog (schema GpuType, the fields flash reads). */
export interface V2GpuType {
  id: string;
  name: string;
  pool: string | null;
  memory: number;
  price: { secure: number; community: number; serverless?: number };
  availability?: "NONE" | "LOW" | "MEDIUM" | "HIGH";
  dataCenters?: { id: string; name: string; availability: string }[];
  cudaVersions?: { version: string; available: boolean }[];
}

/** A CPU flavour of the catalog (schema CpuType). */
export interface V2CpuType {
  id: string;
  name: string;
  vcpu: { min: number; max: number };
  ramGbPerVcpu: number;
  price: { securePerVcpu: number; serverlessPerVcpu: number };
  availability?: string;
}

/** A data center of the catalog (schema DataCenter, the fields flash reads). */
export interface V2DataCenter {
  id: string;
  name: string;
  region: string;
}

/** A reply of REST v2 that is an error: its problem+json in words (`detail`, then each of `errors[]`). */
export class RestV2Error extends RunpodApiError {
  override name = "RestV2Error";
  constructor(
    message: string,
    status: number,
    url: string,
    readonly title: string,
    readonly detail: string,
    readonly errors: string[],
  ) {
    super(message, status, url);
  }
}

/**
 * Seconds to wait before the next request from a `RateLimit` header value: the longest reset `t` among windows
 * whose remaining count `r` is 0; 0 when no window is spent (or the header is absent or unreadable).
 */
function rateLimitWait(header: string | null): number {
  if (!header) return 0;
  let wait = 0;
  for (const member of header.split(",")) {
    const r = /;\s*r=(\d+)/.exec(member)?.[1];
    const t = /;\s*t=(\d+)/.exec(member)?.[1];
    if (r !== undefined && t !== undefined && Number(r) === 0) wait = Math.max(wait, Number(t));
  }
  return wait;
}

/** Client of the REST v2 control plane. */
export class RunpodRestV2 {
  /** No request goes out before this time (a spent rate-limit window). */
  private notBefore = 0;

  constructor(
    private readonly http: RunpodHttp,
    private readonly apiBaseUrl: string,
    /** Longest wait for a rate-limit window, ms: past it the request fails rather than hang. */
    private readonly maxRateWaitMs = 120_000,
  ) {}

  /**
   * One request. Reads are retried on 429/5xx/network errors (RunpodHttp), creates only when they provably did not
   * happen (`unsent`), updates and deletes are idempotent and retried. Errors are thrown as RestV2Error.
   */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const wait = this.notBefore - Date.now();
    if (wait > 0) {
      if (wait > this.maxRateWaitMs) {
        throw new RunpodApiError(`Runpod's rate limit resets in ${Math.ceil(wait / 1000)} s`, 429, path);
      }
      rlog.info(`Runpod rate limit reached: waiting ${Math.ceil(wait / 1000)} s`);
      await Bun.sleep(wait);
    }
    const url = `${this.apiBaseUrl}/v2${path}`;
    const res = await this.http.send(url, {
      method,
      body,
      retry: method === "POST" ? "unsent" : true,
      timeoutMs: 60_000,
      accept: (status) => status >= 400 && status < 500,
    });
    const spent = rateLimitWait(res.headers.get("ratelimit"));
    if (spent > 0) this.notBefore = Date.now() + spent * 1000;
    const text = await res.text();
    if (!res.ok) throw this.problem(res, method, path, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RunpodApiError(
        `Runpod answered ${res.status} to ${method} /v2${path} with a body that is not JSON: ${this.http.clean(text.slice(0, 200))}`,
        res.status,
        path,
      );
    }
  }

  private problem(res: Response, method: string, path: string, text: string): RunpodApiError {
    let p: { title?: string; status?: number; detail?: string; errors?: string[] } | undefined;
    try {
      p = JSON.parse(text);
    } catch {
      p = undefined;
    }
    if (!p?.title && !p?.detail) {
      return new RunpodApiError(
        `Runpod answered ${res.status} to ${method} /v2${path}: ${this.http.clean(text.slice(0, 300))}`,
        res.status,
        path,
      );
    }
    const errors = Array.isArray(p.errors) ? p.errors.map(String) : [];
    const detail = this.http.clean(p.detail ?? "");
    const words = [`${p.title ?? "Error"}${detail ? `: ${detail}` : ""}`, ...errors.map((e) => this.http.clean(e))];
    return new RestV2Error(
      `Runpod ${method} /v2${path} answered ${res.status} ${words.join("; ")}`,
      res.status,
      path,
      p.title ?? "",
      detail,
      errors,
    );
  }

  /** Every serverless endpoint of the account. */
  async listEndpoints(): Promise<V2Endpoint[]> {
    return (await this.request<{ endpoints: V2Endpoint[] }>("GET", "/serverless")).endpoints ?? [];
  }

  /** One endpoint, or undefined when it does not exist. */
  async getEndpoint(id: string): Promise<V2Endpoint | undefined> {
    try {
      return await this.request<V2Endpoint>("GET", `/serverless/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof RunpodApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Create an endpoint (201); never sent twice. */
  createEndpoint(body: V2EndpointCreate): Promise<V2Endpoint> {
    return this.request("POST", "/serverless", body);
  }

  /** Change the fields present in `body` (a PATCH). */
  updateEndpoint(id: string, body: V2EndpointUpdate): Promise<V2Endpoint> {
    return this.request("PATCH", `/serverless/${encodeURIComponent(id)}`, body);
  }

  /**
   * Delete an endpoint and its bound template (204). No scale-to-zero first: v2 terminates the workers itself. An
   * endpoint that is already gone (404) counts as deleted.
   */
  async deleteEndpoint(id: string): Promise<void> {
    try {
      await this.request("DELETE", `/serverless/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!(err instanceof RunpodApiError && err.status === 404)) throw err;
    }
  }

  /** The account's templates. */
  async listTemplates(): Promise<V2Template[]> {
    return (await this.request<{ templates: V2Template[] }>("GET", "/templates")).templates ?? [];
  }

  /** One template, or undefined. */
  async getTemplate(id: string): Promise<V2Template | undefined> {
    try {
      return await this.request<V2Template>("GET", `/templates/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof RunpodApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Create a template (201). */
  createTemplate(body: V2Container & { name: string; image: string; serverless?: boolean }): Promise<V2Template> {
    return this.request("POST", "/templates", body);
  }

  /** Change a template's fields. */
  updateTemplate(id: string, body: V2Container & { name?: string }): Promise<V2Template> {
    return this.request("PATCH", `/templates/${encodeURIComponent(id)}`, body);
  }

  /** Delete a template (204); a template that is gone counts as deleted. */
  async deleteTemplate(id: string): Promise<void> {
    try {
      await this.request("DELETE", `/templates/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!(err instanceof RunpodApiError && err.status === 404)) throw err;
    }
  }

  /** The account's network volumes. */
  async listNetworkVolumes(): Promise<V2NetworkVolume[]> {
    return (await this.request<{ networkVolumes: V2NetworkVolume[] }>("GET", "/network-volumes")).networkVolumes ?? [];
  }

  /** Create a network volume (billable until deleted; never sent twice). */
  createNetworkVolume(body: { name: string; size: number; dataCenter: string }): Promise<V2NetworkVolume> {
    return this.request("POST", "/network-volumes", body);
  }

  /** Delete a network volume (flash never deletes the user's volumes itself; the doctor cleans up its probe). */
  async deleteNetworkVolume(id: string): Promise<void> {
    await this.request("DELETE", `/network-volumes/${encodeURIComponent(id)}`);
  }

  /**
   * The id of the account's volume with this name in this data center, created when there is none (runpod/flash
   * NetworkVolume._do_deploy in core/resources/network_volume.py: list, reuse by name + data center, else create).
   * v2 sizes are 10 to 4096 GB (CreateNetworkVolumeRequest); a smaller request is raised to 10.
   */
  async ensureNetworkVolume(volume: { name: string; size: number; dataCenterId: string }): Promise<string> {
    const found = (await this.listNetworkVolumes()).find(
      (v) => v.name === volume.name && v.dataCenter === volume.dataCenterId,
    );
    if (found) return found.id;
    const size = Math.max(10, volume.size);
    const made = await this.createNetworkVolume({ name: volume.name, size, dataCenter: volume.dataCenterId });
    rlog.info(`created network volume ${volume.name} (${made.id}, ${size} GB in ${volume.dataCenterId})`);
    return made.id;
  }

  /** GPU types with serverless pools, prices and (with `availability`) stock and CUDA versions. */
  async gpuTypes(availability = false): Promise<V2GpuType[]> {
    const q = availability ? "?include=AVAILABILITY&product=SERVERLESS" : "";
    return (await this.request<{ gpus: V2GpuType[] }>("GET", `/catalog/gpus${q}`)).gpus ?? [];
  }

  /** CPU flavours with vCPU ranges and per-vCPU prices. */
  async cpuTypes(availability = false): Promise<V2CpuType[]> {
    const q = availability ? "?include=AVAILABILITY&product=SERVERLESS" : "";
    return (await this.request<{ cpus: V2CpuType[] }>("GET", `/catalog/cpus${q}`)).cpus ?? [];
  }

  /** Data centers. */
  async dataCenters(): Promise<V2DataCenter[]> {
    return (await this.request<{ dataCenters: V2DataCenter[] }>("GET", "/catalog/datacenters")).dataCenters ?? [];
  }
}
