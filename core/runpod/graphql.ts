/** The GraphQL control plane (api.runpod.io/graphql): templates and endpoints (https://docs.runpod.io/sdks/graphql/manage-endpoints). */
import { logger } from "../base/log";
import { RunpodApiError, RunpodHttp } from "./http";

const glog = logger("runpod");

/** `{key, value}` as GraphQL carries environment variables. */
export interface EnvVarInput {
  key: string;
  value: string;
}

/** SaveTemplateInput (the fields flash sends). */
export interface TemplateInput {
  id?: string;
  name: string;
  imageName: string;
  containerDiskInGb: number;
  volumeInGb: number;
  dockerArgs: string;
  env: EnvVarInput[];
  isServerless: boolean;
  readme?: string;
}

/** EndpointInput (the fields flash sends; `id` present = update, a full replace). */
export interface EndpointInput {
  id?: string;
  name: string;
  templateId: string;
  type: "QB" | "LB";
  /** GPU endpoints only (omitted for CPU). */
  gpuIds?: string;
  gpuCount?: number;
  instanceIds?: string[];
  workersMin: number;
  workersMax: number;
  idleTimeout: number;
  scalerType: string;
  scalerValue: number;
  executionTimeoutMs: number;
  workersPFBTarget: number;
  locations?: string;
  networkVolumeId?: string;
  flashBootType?: "FLASHBOOT" | "OFF";
  allowedCudaVersions?: string;
  minCudaVersion?: string;
  flashEnvironmentId?: string;
}

/** An endpoint as `saveEndpoint` / `myself { endpoints }` return it (the fields flash selects). */
export interface EndpointInfo {
  id: string;
  name: string;
  templateId: string;
  type: string;
  gpuIds: string;
  gpuCount?: number;
  instanceIds?: string[] | null;
  workersMin: number;
  workersMax: number;
  idleTimeout: number;
  scalerType?: string;
  scalerValue?: number;
  locations?: string | null;
  /** The attached network volume (runpod-python api/queries/endpoints.py reads it from `myself { endpoints }`). */
  networkVolumeId?: string | null;
  executionTimeoutMs?: number;
  version?: number;
}

/** A network volume as `myself { networkVolumes }` and `createNetworkVolume` return it. */
export interface NetworkVolumeInfo {
  id: string;
  name: string;
  size: number;
  dataCenterId: string;
}

const VOLUME_FIELDS = "id name size dataCenterId";

/** The EndpointInput that re-saves an endpoint as listed (for scaling it to zero before deletion). */
function endpointInputOf(e: EndpointInfo): EndpointInput {
  const input: EndpointInput = {
    id: e.id,
    name: e.name,
    templateId: e.templateId,
    type: e.type === "LB" ? "LB" : "QB",
    workersMin: e.workersMin,
    workersMax: e.workersMax,
    idleTimeout: e.idleTimeout,
    scalerType: e.scalerType ?? "QUEUE_DELAY",
    scalerValue: e.scalerValue ?? 4,
    executionTimeoutMs: e.executionTimeoutMs ?? 600_000,
    workersPFBTarget: 0,
  };
  if (e.instanceIds?.length) input.instanceIds = e.instanceIds;
  else {
    if (e.gpuIds) input.gpuIds = e.gpuIds;
    if (e.gpuCount) input.gpuCount = e.gpuCount;
  }
  if (e.locations) input.locations = e.locations;
  // saveEndpoint replaces the whole endpoint: without its volume, a scale-down before a delete that then fails would
  // leave the endpoint detached from its data.
  if (e.networkVolumeId) input.networkVolumeId = e.networkVolumeId;
  return input;
}

const ENDPOINT_FIELDS =
  "id name templateId type gpuIds gpuCount instanceIds workersMin workersMax idleTimeout scalerType scalerValue locations networkVolumeId version";

/** A GraphQL-level error (`errors` in the reply). */
export class GraphqlError extends RunpodApiError {
  override name = "GraphqlError";
}

/** Client of the control plane. */
export class RunpodGraphql {
  constructor(
    private readonly http: RunpodHttp,
    private readonly apiBaseUrl: string,
  ) {}

  /**
   * Run one query or mutation; throws on HTTP errors and on a non-empty `errors` array. Only queries are retried:
   * a mutation that timed out may have happened, and sending it again could create a second endpoint (flash's
   * `_execute_graphql` retries only queries unless a call is marked idempotent: runpod/flash core/api/runpod.py).
   */
  async request<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    opts: { retry?: boolean } = {},
  ): Promise<T> {
    const url = `${this.apiBaseUrl}/graphql`;
    const mutation = /^\s*mutation\b/.test(query);
    const res = await this.http.send(url, {
      method: "POST",
      body: { query, variables },
      retry: opts.retry ?? !mutation,
      timeoutMs: 60_000,
      // flash (_execute_graphql_once) and runpodctl read `errors` from replies of status >= 400 too.
      accept: (status) => status >= 400 && status < 500,
    });
    const text = await res.text();
    let body: { data?: T; errors?: { message: string }[] } | undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new RunpodApiError(
        `Runpod answered ${res.status} with a body that is not JSON: ${this.http.clean(text.slice(0, 200))}`,
        res.status,
        url,
      );
    }
    if (body?.errors?.length) {
      throw new GraphqlError(
        `Runpod GraphQL error: ${this.http.clean(body.errors.map((e) => e.message).join("; "))}`,
        res.status,
        url,
      );
    }
    if (!res.ok)
      throw new RunpodApiError(
        `Runpod answered ${res.status} for ${url}: ${this.http.clean(text.slice(0, 300))}`,
        res.status,
        url,
      );
    if (!body?.data) throw new GraphqlError("Runpod GraphQL reply has no data", 200, url);
    return body.data;
  }

  /** Create or update a template; returns its id. */
  async saveTemplate(input: TemplateInput): Promise<{ id: string; name: string }> {
    const data = await this.request<{ saveTemplate: { id: string; name: string } }>(
      "mutation saveTemplate($input: SaveTemplateInput) { saveTemplate(input: $input) { id name } }",
      { input },
    );
    return data.saveTemplate;
  }

  /** Create (no id) or update (id) an endpoint. */
  async saveEndpoint(input: EndpointInput): Promise<EndpointInfo> {
    const data = await this.request<{ saveEndpoint: EndpointInfo }>(
      `mutation saveEndpoint($input: EndpointInput!) { saveEndpoint(input: $input) { ${ENDPOINT_FIELDS} } }`,
      { input },
    );
    return data.saveEndpoint;
  }

  /**
   * Delete an endpoint: first scale it to zero ("The endpoint's min and max workers must both be zero before you
   * can delete it": docs sdks/graphql/manage-endpoints, "Delete an endpoint"), then delete, then list to verify.
   * An endpoint that no longer exists counts as deleted (as in runpod/flash (Python)).
   */
  async deleteEndpoint(id: string): Promise<void> {
    const found = (await this.listEndpoints()).find((e) => e.id === id);
    if (!found) return;
    if (found.workersMin !== 0 || found.workersMax !== 0) {
      await this.saveEndpoint({ ...endpointInputOf(found), workersMin: 0, workersMax: 0 });
    }
    try {
      await this.request("mutation deleteEndpoint($id: String!) { deleteEndpoint(id: $id) }", { id });
    } catch (err) {
      if (!(err instanceof GraphqlError)) throw err;
    }
    if ((await this.listEndpoints()).some((e) => e.id === id)) {
      throw new RunpodApiError(
        `endpoint ${found.name} (${id}) is still on the account after deleteEndpoint`,
        200,
        this.apiBaseUrl,
      );
    }
  }

  /** Delete a template by name (`$name: String!` validates against a nullable or a non-null schema argument). */
  async deleteTemplate(name: string): Promise<void> {
    await this.request("mutation deleteTemplate($name: String!) { deleteTemplate(templateName: $name) }", { name });
  }

  /** The account's templates (ids and names). */
  async listTemplates(): Promise<{ id: string; name: string }[]> {
    const data = await this.request<{ myself: { podTemplates: { id: string; name: string }[] | null } }>(
      "query { myself { podTemplates { id name } } }",
    );
    return data.myself?.podTemplates ?? [];
  }

  /** One template with its env (the query runpod/flash `get_template` sends: core/api/runpod.py). */
  async getTemplate(id: string): Promise<{ id: string; name: string; env: EnvVarInput[] } | undefined> {
    const data = await this.request<{ podTemplate: { id: string; name: string; env: EnvVarInput[] | null } | null }>(
      "query getTemplate($id: String!) { podTemplate(id: $id) { id name env { key value } } }",
      { id },
    );
    const t = data.podTemplate;
    return t ? { ...t, env: t.env ?? [] } : undefined;
  }

  /**
   * The account's network volumes. Runpod's own Pulumi provider reads and creates volumes through GraphQL
   * (runpod/pulumi-runpod-native provider/graphql/operations/networkstorage.graphql); runpod/flash uses the REST
   * twin, `GET /networkvolumes` (core/resources/network_volume.py), whose items have the same four fields.
   */
  async listNetworkVolumes(): Promise<NetworkVolumeInfo[]> {
    const data = await this.request<{ myself: { networkVolumes: NetworkVolumeInfo[] | null } }>(
      `query { myself { networkVolumes { ${VOLUME_FIELDS} } } }`,
    );
    return data.myself?.networkVolumes ?? [];
  }

  /**
   * Create a network volume: `{name, size, dataCenterId}`, as flash's `POST /networkvolumes` body and the
   * `createNetworkVolume` mutation of runpod/pulumi-runpod-native. Billable until deleted; never retried.
   */
  async createNetworkVolume(input: { name: string; size: number; dataCenterId: string }): Promise<NetworkVolumeInfo> {
    const data = await this.request<{ createNetworkVolume: NetworkVolumeInfo }>(
      `mutation createNetworkVolume($input: CreateNetworkVolumeInput!) { createNetworkVolume(input: $input) { ${VOLUME_FIELDS} } }`,
      { input },
    );
    return data.createNetworkVolume;
  }

  /**
   * The id of the account's volume with this name in this data center, created when there is none: what
   * runpod/flash does before it deploys an endpoint that uses a volume (NetworkVolume._do_deploy in
   * core/resources/network_volume.py: list, reuse by name + dataCenterId, else create). Volumes are never
   * deleted by flash (runpod/flash (Python) refuses to undeploy them too): they hold the user's data.
   */
  async ensureNetworkVolume(volume: { name: string; size: number; dataCenterId: string }): Promise<string> {
    const found = (await this.listNetworkVolumes()).find(
      (v) => v.name === volume.name && v.dataCenterId === volume.dataCenterId,
    );
    if (found) return found.id;
    const made = await this.createNetworkVolume({
      name: volume.name,
      size: volume.size,
      dataCenterId: volume.dataCenterId,
    });
    glog.info(`created network volume ${volume.name} (${made.id}, ${volume.size} GB in ${volume.dataCenterId})`);
    return made.id;
  }

  /** Every endpoint of the account. */
  async listEndpoints(): Promise<EndpointInfo[]> {
    const data = await this.request<{ myself: { endpoints: EndpointInfo[] } }>(
      `query { myself { endpoints { ${ENDPOINT_FIELDS} } } }`,
    );
    return data.myself?.endpoints ?? [];
  }
}
