/**
 * The GraphQL control plane (api.runpod.io/graphql; https://docs.runpod.io/sdks/graphql/manage-endpoints), kept only
 * where Runpod's REST API v2 has no surface yet (runpod/docs api-reference-v2/openapi.json at a900806: no Flash
 * operations, and no `flashEnvironmentId` on CreateEndpointRequest):
 * - the Flash app plane: apps, environments, builds and the artifact upload (core/deploy/flash-app-client.ts; the
 *   operations runpod/flash sends in core/api/runpod.py);
 * - `flash deploy`'s endpoints, saved into a Flash environment with `saveEndpoint(input: {flashEnvironmentId})`
 *   (runpod/flash core/resources/serverless.py), with their templates, deletes and listing (core/deploy/apply.ts).
 * Live provisioning and the doctor use REST v2 (rest-v2.ts). When Runpod adds these to v2, this module goes.
 */
import { RunpodApiError, RunpodHttp } from "./http";

/** `{key, value}` as GraphQL carries environment variables. */
interface EnvVarInput {
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

  /** Every endpoint of the account. */
  async listEndpoints(): Promise<EndpointInfo[]> {
    const data = await this.request<{ myself: { endpoints: EndpointInfo[] } }>(
      `query { myself { endpoints { ${ENDPOINT_FIELDS} } } }`,
    );
    return data.myself?.endpoints ?? [];
  }
}
