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
import { logger } from "../base/log";
import { RunpodApiError, RunpodHttp } from "./http";
import {
  ENDPOINT_FIELDS,
  type EndpointInfo,
  type EndpointInput,
  type EnvVarInput,
  isTemplateNameClash,
  MUTATIONS,
  teardownEndpoint,
  type TemplateInput,
} from "./platform";

const glog = logger("runpod");

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

  /**
   * Create a template, resolving a name clash. Template names are unique on Runpod ("Template names must be unique":
   * docs sdks/graphql/manage-pod-templates) and a deleted endpoint's template can linger (refused for up to 2 min
   * after its last use, same doc), so on a clash the name is looked up (`myself { podTemplates }`): when `ours` says
   * that template is this workspace's, it is updated and reused; otherwise a fresh name is taken (runpodctl adds a
   * random suffix to every template name: cmd/serverless/create.go).
   */
  async createTemplate(
    input: TemplateInput,
    ours: (template: { id: string; env: EnvVarInput[] }) => boolean,
  ): Promise<{ id: string; name: string }> {
    try {
      return await this.saveTemplate({ ...input, id: undefined });
    } catch (err) {
      if (!(err instanceof RunpodApiError) || !isTemplateNameClash(err.message)) throw err;
      const clash = (await this.listTemplates()).find((t) => t.name === input.name);
      const found = clash ? await this.getTemplate(clash.id).catch(() => undefined) : undefined;
      if (clash && found && ours(found)) {
        glog.info(`template ${input.name} already exists and is ours: updating it`);
        return this.saveTemplate({ ...input, id: clash.id });
      }
      return this.saveTemplate({ ...input, id: undefined, name: `${input.name}-${crypto.randomUUID().slice(0, 7)}` });
    }
  }

  /** Create (no id) or update (id) an endpoint. */
  async saveEndpoint(input: EndpointInput): Promise<EndpointInfo> {
    const data = await this.request<{ saveEndpoint: EndpointInfo }>(MUTATIONS.saveEndpoint(), { input });
    return data.saveEndpoint;
  }

  /** Delete an endpoint in the documented order (platform.ts `teardownEndpoint`: 0/0, delete, list to verify). */
  async deleteEndpoint(id: string): Promise<void> {
    await teardownEndpoint(
      {
        list: () => this.listEndpoints(),
        save: (input) => this.saveEndpoint(input),
        remove: async (target) => {
          await this.request(MUTATIONS.deleteEndpoint, { id: target });
        },
      },
      id,
    );
  }

  /** Delete a template by name (refused for a while after its endpoint's last use: platform.ts `TEMPLATE_DELETE_LAG_MS`). */
  async deleteTemplate(name: string): Promise<void> {
    await this.request(MUTATIONS.deleteTemplate, { name });
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

  /** Every endpoint of the account. */
  async listEndpoints(): Promise<EndpointInfo[]> {
    const data = await this.request<{ myself: { endpoints: EndpointInfo[] } }>(
      `query { myself { endpoints { ${ENDPOINT_FIELDS} } } }`,
    );
    return data.myself?.endpoints ?? [];
  }
}
