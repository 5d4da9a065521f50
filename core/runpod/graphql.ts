/** The GraphQL control plane (api.runpod.io/graphql): templates and endpoints (runpod-api.md §4). */
import { RunpodApiError, RunpodHttp } from "./http";

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
  gpuIds: string;
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
  flashBootType?: "FLASHBOOT";
  allowedCudaVersions?: string;
  flashEnvironmentId?: string;
}

/** An endpoint as `saveEndpoint` / `myself { endpoints }` return it (the fields flash selects). */
export interface EndpointInfo {
  id: string;
  name: string;
  templateId: string;
  type: string;
  gpuIds: string;
  workersMin: number;
  workersMax: number;
  idleTimeout: number;
  version?: number;
}

const ENDPOINT_FIELDS =
  "id name templateId type gpuIds gpuCount instanceIds workersMin workersMax idleTimeout scalerType scalerValue locations version";

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

  /** Run one query or mutation; throws on HTTP errors and on a non-empty `errors` array. */
  async request<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    opts: { retry?: boolean } = {},
  ): Promise<T> {
    const url = `${this.apiBaseUrl}/graphql`;
    const body = await this.http.json<{ data?: T; errors?: { message: string }[] }>(url, {
      method: "POST",
      body: { query, variables },
      retry: opts.retry,
      timeoutMs: 60_000,
    });
    if (body?.errors?.length) {
      throw new GraphqlError(
        `Runpod GraphQL error: ${this.http.clean(body.errors.map((e) => e.message).join("; "))}`,
        200,
        url,
      );
    }
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

  /** Delete an endpoint; an endpoint that no longer exists counts as deleted (as in the original). */
  async deleteEndpoint(id: string): Promise<void> {
    try {
      await this.request("mutation deleteEndpoint($id: String!) { deleteEndpoint(id: $id) }", { id });
    } catch (err) {
      if (!(err instanceof GraphqlError)) throw err;
      const still = (await this.listEndpoints()).some((e) => e.id === id);
      if (still) throw err;
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
