import { buildSchema, graphql, type GraphQLSchema } from "graphql";

/** An environment variable as GraphQL carries it. */
export interface EnvVar {
  key: string;
  value: string;
}

/** A pod template as the emulator stores it (runpod-api.md §4.2). */
export interface EmulatedTemplate {
  id: string;
  name: string;
  imageName: string;
  dockerArgs: string;
  containerDiskInGb: number;
  volumeInGb: number;
  volumeMountPath: string | null;
  ports: string | null;
  env: EnvVar[];
  isServerless: boolean;
  readme: string;
  startScript: string | null;
}

/** An endpoint as the emulator stores it (runpod-api.md §4.3). */
export interface EmulatedEndpoint {
  id: string;
  name: string;
  aiKey: string;
  userId: string;
  version: number;
  templateId: string;
  gpuIds: string;
  gpuCount: number;
  instanceIds: string[] | null;
  workersMin: number;
  workersMax: number;
  workersStandby: number;
  workersPFBTarget: number;
  idleTimeout: number;
  scalerType: string;
  scalerValue: number;
  locations: string | null;
  networkVolumeId: string | null;
  flashBootType: string | null;
  allowedCudaVersions: string | null;
  minCudaVersion: string | null;
  executionTimeoutMs: number;
  type: "QB" | "LB";
  flashEnvironmentId: string | null;
  modelReferences: string[] | null;
  env: EnvVar[];
  createdAt: string;
}

const SDL = /* GraphQL */ `
  scalar JSON
  type EnvironmentVariable { key: String value: String }
  input EnvironmentVariableInput { key: String! value: String }
  type PodTemplate {
    id: String name: String imageName: String dockerArgs: String containerDiskInGb: Int volumeInGb: Int
    volumeMountPath: String ports: String env: [EnvironmentVariable] isServerless: Boolean readme: String startScript: String
  }
  input SaveTemplateInput {
    id: String name: String! imageName: String! containerDiskInGb: Int! volumeInGb: Int! dockerArgs: String
    env: [EnvironmentVariableInput]! ports: String volumeMountPath: String isServerless: Boolean readme: String
    isPublic: Boolean startSsh: Boolean containerRegistryAuthId: String advancedStart: Boolean config: JSON startScript: String
  }
  input InlineTemplateInput {
    name: String imageName: String! containerDiskInGb: Int volumeInGb: Int dockerArgs: String env: [EnvironmentVariableInput]
    ports: String volumeMountPath: String isServerless: Boolean readme: String isPublic: Boolean startSsh: Boolean
    containerRegistryAuthId: String advancedStart: Boolean config: JSON startScript: String
  }
  enum FlashBootType { FLASHBOOT OFF }
  input NetworkVolumeRefInput { networkVolumeId: String! dataCenterId: String }
  input EndpointInput {
    id: String name: String! templateId: String template: InlineTemplateInput gpuIds: String gpuCount: Int instanceIds: [String]
    workersMin: Int workersMax: Int workersStandby: Int workersPFBTarget: Int idleTimeout: Int scalerType: String scalerValue: Int
    locations: String networkVolumeId: String networkVolumeIds: [NetworkVolumeRefInput] flashBootType: FlashBootType
    allowedCudaVersions: String minCudaVersion: String executionTimeoutMs: Int type: String flashEnvironmentId: String
    modelReferences: [String] env: [EnvironmentVariableInput]
  }
  type Pod { id: String desiredStatus: String }
  type Endpoint {
    id: String name: String aiKey: String userId: String version: Int templateId: String template: PodTemplate gpuIds: String
    gpuCount: Int instanceIds: [String] idleTimeout: Int locations: String networkVolumeId: String scalerType: String
    scalerValue: Int type: String workersMin: Int workersMax: Int workersStandby: Int workersPFBTarget: Int
    allowedCudaVersions: String minCudaVersion: String executionTimeoutMs: Int flashBootType: String
    flashEnvironmentId: String createdAt: String env: [EnvironmentVariable] pods: [Pod] modelReferences: [String]
    activeBuildid: String idePodId: String
  }
  input UpdateEndpointTemplateInput { endpointId: String! templateId: String! }
  type User { id: String endpoints: [Endpoint] endpoint(id: String!): Endpoint podTemplates: [PodTemplate] }
  type Query { myself: User podTemplate(id: String!): PodTemplate }
  type Mutation {
    saveTemplate(input: SaveTemplateInput): PodTemplate
    deleteTemplate(templateName: String): Boolean
    saveEndpoint(input: EndpointInput!): Endpoint
    deleteEndpoint(id: String!): Boolean
    updateEndpointTemplate(input: UpdateEndpointTemplateInput): Endpoint
  }
`;

/** A plane added to the schema with `ControlPlane.extend`. */
interface Extension {
  sdl: string;
  root: () => Record<string, unknown>;
  myself: () => Record<string, unknown>;
}

/** Runpod-style ids: 14 lowercase alphanumerics (`i02xupws21hp6i`). */
export function runpodId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(14));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** Fields whose change rolls the workers (bumps `version`). */
const STRUCTURAL = [
  "templateId",
  "gpuIds",
  "gpuCount",
  "instanceIds",
  "networkVolumeId",
  "allowedCudaVersions",
  "minCudaVersion",
  "type",
] as const;

/**
 * The emulator's control plane: templates and endpoints, edited through the same GraphQL operations as
 * api.runpod.io (a real GraphQL schema, so selection sets, variables and errors behave like the real thing).
 */
export class ControlPlane {
  readonly templates = new Map<string, EmulatedTemplate>();
  readonly endpoints = new Map<string, EmulatedEndpoint>();
  private schema: GraphQLSchema = buildSchema(SDL);
  private readonly extensions: Extension[] = [];
  /** Whether `deleteEndpoint` insists on workersMin = workersMax = 0 first (the docs' rule; flash ignores it). */
  requireZeroWorkersToDelete = false;
  /** Called after an endpoint is created or updated (the supervisor rescales) or deleted. */
  onEndpointChange: (endpoint: EmulatedEndpoint, change: "saved" | "deleted") => void = () => {};

  /** Run one GraphQL request; returns the `{data, errors}` body. */
  async execute(
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
  ): Promise<Record<string, unknown>> {
    const result = await graphql({
      schema: this.schema,
      source: query,
      rootValue: this.extendedRoot(),
      variableValues: variables,
      operationName,
    });
    const body: Record<string, unknown> = { data: result.data ?? null };
    if (result.errors?.length) body.errors = result.errors.map((e) => ({ message: e.message, path: e.path }));
    return body;
  }

  /** Add another plane of the API (types, root fields, fields under `myself`), e.g. the Flash app plane. */
  extend(sdl: string, root: Extension["root"], myself: Extension["myself"] = () => ({})): void {
    this.extensions.push({ sdl, root, myself });
    this.schema = buildSchema([SDL, ...this.extensions.map((e) => e.sdl)].join("\n"));
  }

  private extendedRoot(): Record<string, unknown> {
    const root: Record<string, unknown> = this.root();
    if (!this.extensions.length) return root;
    const base = root.myself as () => Record<string, unknown>;
    for (const e of this.extensions) Object.assign(root, e.root());
    root.myself = () => Object.assign(base(), ...this.extensions.map((e) => e.myself()));
    return root;
  }

  /** The template an endpoint runs. */
  templateOf(endpoint: EmulatedEndpoint): EmulatedTemplate | undefined {
    return this.templates.get(endpoint.templateId);
  }

  private root() {
    const view = (e: EmulatedEndpoint) => ({
      ...e,
      template: () => this.templates.get(e.templateId) ?? null,
      pods: () => [],
    });
    return {
      myself: () => ({
        id: "user_emulator",
        endpoints: () => [...this.endpoints.values()].map(view),
        endpoint: ({ id }: { id: string }) => {
          const e = this.endpoints.get(id);
          return e ? view(e) : null;
        },
        podTemplates: () => [...this.templates.values()],
      }),
      podTemplate: ({ id }: { id: string }) => this.templates.get(id) ?? null,
      saveTemplate: ({ input }: { input: any }) => this.saveTemplate(input),
      deleteTemplate: ({ templateName }: { templateName: string }) => this.deleteTemplate(templateName),
      saveEndpoint: ({ input }: { input: any }) => view(this.saveEndpoint(input)),
      deleteEndpoint: ({ id }: { id: string }) => this.deleteEndpoint(id),
      updateEndpointTemplate: ({ input }: { input: { endpointId: string; templateId: string } }) => {
        const e = this.endpoints.get(input.endpointId);
        if (!e) throw new Error(`Endpoint ${input.endpointId} not found`);
        if (!this.templates.has(input.templateId)) throw new Error(`Template ${input.templateId} not found`);
        e.templateId = input.templateId;
        e.version++;
        this.onEndpointChange(e, "saved");
        return view(e);
      },
    };
  }

  private saveTemplate(input: any, forceId?: string): EmulatedTemplate {
    const id: string = input.id ?? forceId ?? runpodId();
    if (input.id && !this.templates.has(input.id)) throw new Error(`Template ${input.id} not found`);
    const name = String(input.name ?? `template-${id}`);
    for (const t of this.templates.values()) {
      if (t.name === name && t.id !== id) throw new Error(`Template name must be unique: "${name}" is taken`);
    }
    if (!input.imageName) throw new Error("imageName is required");
    const template: EmulatedTemplate = {
      id,
      name,
      imageName: input.imageName,
      dockerArgs: input.dockerArgs ?? "",
      containerDiskInGb: input.containerDiskInGb ?? 64,
      volumeInGb: input.volumeInGb ?? 0,
      volumeMountPath: input.volumeMountPath ?? null,
      ports: input.ports ?? null,
      env: (input.env ?? []).map((v: EnvVar) => ({ key: v.key, value: v.value ?? "" })),
      isServerless: input.isServerless ?? true,
      readme: input.readme ?? "",
      startScript: input.startScript ?? null,
    };
    this.templates.set(id, template);
    for (const e of this.endpoints.values()) if (e.templateId === id) this.onEndpointChange(e, "saved");
    return template;
  }

  private deleteTemplate(name: string): null {
    const t = [...this.templates.values()].find((x) => x.name === name);
    if (!t) throw new Error(`Template "${name}" not found`);
    if ([...this.endpoints.values()].some((e) => e.templateId === t.id))
      throw new Error(`Template "${name}" is in use by an endpoint`);
    this.templates.delete(t.id);
    return null;
  }

  private saveEndpoint(input: any): EmulatedEndpoint {
    if (input.template && input.templateId) throw new Error("templateId and template are mutually exclusive; send one");
    const previous = input.id ? this.endpoints.get(input.id) : undefined;
    if (input.id && !previous) throw new Error(`Endpoint ${input.id} not found`);
    let templateId: string | undefined = input.templateId;
    if (input.template) {
      const inline = { ...input.template, name: input.template.name ?? `${input.name}__template` };
      const existing = [...this.templates.values()].find((t) => t.name === inline.name);
      templateId = this.saveTemplate({ ...inline, id: existing?.id }).id;
    }
    if (!templateId) throw new Error("templateId or template is required");
    if (!this.templates.has(templateId)) throw new Error(`Template ${templateId} not found`);
    const workersMin = input.workersMin ?? 0;
    const workersMax = input.workersMax ?? 3;
    if (workersMin > workersMax)
      throw new Error(`workersMin (${workersMin}) must not exceed workersMax (${workersMax})`);
    const type = input.type ?? "QB";
    if (type !== "QB" && type !== "LB") throw new Error(`type must be QB or LB, got ${type}`);
    const endpoint: EmulatedEndpoint = {
      id: previous?.id ?? runpodId(),
      name: input.name,
      aiKey: previous?.aiKey ?? `rpa_${runpodId()}${runpodId()}`,
      userId: "user_emulator",
      version: previous?.version ?? 0,
      templateId,
      gpuIds: input.gpuIds ?? (input.instanceIds?.length ? "" : "AMPERE_16"),
      gpuCount: input.gpuCount ?? (input.instanceIds?.length ? 0 : 1),
      instanceIds: input.instanceIds ?? null,
      workersMin,
      workersMax,
      workersStandby: input.workersStandby ?? 0,
      workersPFBTarget: input.workersPFBTarget ?? 0,
      idleTimeout: input.idleTimeout ?? 5,
      scalerType: input.scalerType ?? (type === "LB" ? "REQUEST_COUNT" : "QUEUE_DELAY"),
      scalerValue: input.scalerValue ?? 4,
      locations: input.locations ?? null,
      networkVolumeId: input.networkVolumeId ?? input.networkVolumeIds?.[0]?.networkVolumeId ?? null,
      flashBootType: input.flashBootType ?? null,
      allowedCudaVersions: input.allowedCudaVersions ?? null,
      minCudaVersion: input.minCudaVersion ?? null,
      executionTimeoutMs: input.executionTimeoutMs ?? 0,
      type,
      flashEnvironmentId: input.flashEnvironmentId ?? null,
      modelReferences: input.modelReferences ?? null,
      env: (input.env ?? []).map((v: EnvVar) => ({ key: v.key, value: v.value ?? "" })),
      createdAt: previous?.createdAt ?? new Date().toISOString(),
    };
    if (previous && STRUCTURAL.some((k) => JSON.stringify(previous[k]) !== JSON.stringify(endpoint[k])))
      endpoint.version++;
    this.endpoints.set(endpoint.id, endpoint);
    this.onEndpointChange(endpoint, "saved");
    return endpoint;
  }

  private deleteEndpoint(id: string): null {
    const e = this.endpoints.get(id);
    if (!e) throw new Error(`Endpoint ${id} not found`);
    if (this.requireZeroWorkersToDelete && (e.workersMin !== 0 || e.workersMax !== 0)) {
      throw new Error("Set min and max workers to 0 before deleting the endpoint");
    }
    this.endpoints.delete(id);
    this.onEndpointChange(e, "deleted");
    return null;
  }
}
