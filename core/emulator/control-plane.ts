import {
  buildSchema,
  execute,
  GraphQLError,
  type GraphQLSchema,
  parse,
  type DocumentNode,
  type ExecutionResult,
  validate,
} from "graphql";
import { CPU_INSTANCE_IDS, CUDA_VERSIONS, cpuMaxDiskGb, GPU_POOLS, gpuModels, isLocation } from "./catalog";
import { TEMPLATE_DELETE_LAG_MS } from "../runpod/platform";

/** An environment variable as GraphQL carries it. */
export interface EnvVar {
  key: string;
  value: string;
}

/** A pod template as the emulator stores it (https://graphql-spec.runpod.io, type PodTemplate). */
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
  isPublic: boolean;
  startSsh: boolean;
  startJupyter: boolean;
  advancedStart: boolean;
  containerRegistryAuthId: string | null;
  readme: string;
  startScript: string | null;
  /** When an endpoint last stopped using it (deleted, or switched template): deletion lags behind this. */
  lastUsedAt: number;
}

/** An endpoint as the emulator stores it (https://graphql-spec.runpod.io, type Endpoint). */
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

/** A network volume as the emulator stores it (GraphQL type NetworkVolume: id, name, size, dataCenterId). */
export interface EmulatedVolume {
  id: string;
  name: string;
  /** GB. */
  size: number;
  dataCenterId: string;
}

/** Behaviour switches of the control plane (defaults are what Runpod documents; tests shorten the delay). */
export interface ControlPlaneOptions {
  /**
   * `deleteEndpoint` refuses unless workersMin = workersMax = 0. Runpod docs sdks/graphql/manage-endpoints.mdx
   * ("Delete an endpoint"): "The endpoint's min and max workers must both be zero before you can delete it."
   */
  requireZeroWorkersToDelete?: boolean;
  /**
   * How long after its last use a template cannot be deleted, ms. Runpod docs
   * sdks/graphql/manage-pod-templates.mdx: "It can take up to 2 minutes to delete a template after its most recent
   * use by a Pod or Serverless endpoint." Default 120000.
   */
  templateDeleteDelayMs?: number;
  /**
   * Put `PORT=80` and `PORT_HEALTH=80` into the template env when an LB endpoint is created, once. runpod/flash
   * @757420d core/resources/serverless.py `_preserve_platform_env`: "The platform injects env vars (e.g. PORT,
   * PORT_HEALTH) once at initial deploy and does not re-inject them on saveTemplate." Default true.
   */
  injectLbPortEnv?: boolean;
}

// The schema: every type, field and argument that Runpod's official clients send or select for templates,
// endpoints, the user and the GPU/CPU catalogue (runpod-python runpod/api/{queries,mutations}/*.py, runpodctl
// api/endpoint.go and internal/api/{endpoints,templates}.go, runpod/flash core/api/runpod.py; see
// test/emulator/client-documents.ts for the exact documents).
const SDL = /* GraphQL */ `
  scalar JSON
  type EnvironmentVariable { key: String value: String }
  input EnvironmentVariableInput { key: String! value: String }
  type PortConfig { port: Int name: String }
  type PodTemplate {
    id: String name: String imageName: String dockerArgs: String containerDiskInGb: Int volumeInGb: Int
    volumeMountPath: String ports: String portsConfig: [PortConfig] env: [EnvironmentVariable] isServerless: Boolean
    isPublic: Boolean isRunpod: Boolean category: String readme: String startScript: String startSsh: Boolean
    startJupyter: Boolean advancedStart: Boolean containerRegistryAuthId: String
  }
  input SaveTemplateInput {
    id: String name: String! imageName: String! containerDiskInGb: Int! volumeInGb: Int! dockerArgs: String
    env: [EnvironmentVariableInput]! ports: String volumeMountPath: String isServerless: Boolean readme: String
    isPublic: Boolean startSsh: Boolean startJupyter: Boolean containerRegistryAuthId: String advancedStart: Boolean
    config: JSON startScript: String category: String
  }
  input InlineTemplateInput {
    name: String imageName: String containerDiskInGb: Int volumeInGb: Int dockerArgs: String env: [EnvironmentVariableInput]
    ports: String volumeMountPath: String isServerless: Boolean readme: String isPublic: Boolean startSsh: Boolean
    containerRegistryAuthId: String advancedStart: Boolean config: JSON startScript: String
  }
  input PodTemplateInput { isRunpod: Boolean isPublic: Boolean isServerless: Boolean category: String searchTerm: String }
  enum FlashBootType { FLASHBOOT OFF }
  input NetworkVolumeRefInput { networkVolumeId: String! dataCenterId: String }
  input EndpointInput {
    id: String name: String! templateId: String template: InlineTemplateInput gpuIds: String gpuCount: Int instanceIds: [String]
    workersMin: Int workersMax: Int workersStandby: Int workersPFBTarget: Int idleTimeout: Int scalerType: String scalerValue: Int
    locations: String networkVolumeId: String networkVolumeIds: [NetworkVolumeRefInput] flashBootType: FlashBootType
    allowedCudaVersions: String minCudaVersion: String executionTimeoutMs: Int type: String flashEnvironmentId: String
    modelReferences: [String] env: [EnvironmentVariableInput] hubReleaseId: String
  }
  type Pod { id: String desiredStatus: String }
  type NetworkVolume { id: String name: String size: Int dataCenterId: String }
  type NetworkVolumeRef { networkVolumeId: String dataCenterId: String }
  type Endpoint {
    id: String name: String aiKey: String userId: String version: Int templateId: String template: PodTemplate gpuIds: String
    gpuCount: Int instanceIds: [String] idleTimeout: Int locations: String networkVolumeId: String
    networkVolume: NetworkVolume networkVolumeIds: [NetworkVolumeRef] scalerType: String
    scalerValue: Int type: String computeType: String workersMin: Int workersMax: Int workersStandby: Int workersPFBTarget: Int
    allowedCudaVersions: String minCudaVersion: String executionTimeoutMs: Int flashBootType: String
    flashEnvironmentId: String createdAt: String env: [EnvironmentVariable] pods: [Pod] modelReferences: [String]
    activeBuildid: String idePodId: String
  }
  input UpdateEndpointTemplateInput { endpointId: String! templateId: String! }
  input CreateNetworkVolumeInput { name: String size: Int dataCenterId: String }
  input DeleteNetworkVolumeInput { id: String! }
  type User {
    id: String pubKey: String endpoints: [Endpoint] endpoint(id: String!): Endpoint podTemplates: [PodTemplate]
    networkVolumes: [NetworkVolume]
  }
  input GpuTypeFilter { id: String ids: [String] }
  input GpuLowestPriceInput {
    gpuCount: Int dataCenterId: String secureCloud: Boolean includeAiApi: Boolean allowedCudaVersions: [String]
    compliance: [String] minDisk: Int minMemoryInGb: Int minVcpuCount: Int
  }
  type LowestPrice { minimumBidPrice: Float uninterruptablePrice: Float stockStatus: String }
  type GpuType {
    id: String displayName: String memoryInGb: Int maxGpuCount: Int manufacturer: String cudaCores: Int
    secureCloud: Boolean communityCloud: Boolean securePrice: Float communityPrice: Float oneMonthPrice: Float
    threeMonthPrice: Float oneWeekPrice: Float communitySpotPrice: Float secureSpotPrice: Float
    lowestPrice(input: GpuLowestPriceInput): LowestPrice
  }
  input CpuFlavorInput { id: String }
  input SpecificsInput { dataCenterId: String instanceId: String }
  type CpuSpecifics { stockStatus: String }
  type CpuFlavor { id: String displayName: String specifics(input: SpecificsInput): CpuSpecifics }
  type Query {
    myself: User
    podTemplate(id: String!): PodTemplate
    podTemplates(input: PodTemplateInput): [PodTemplate]
    gpuTypes(input: GpuTypeFilter): [GpuType]
    cpuFlavors(input: CpuFlavorInput): [CpuFlavor]
  }
  type Mutation {
    saveTemplate(input: SaveTemplateInput): PodTemplate
    deleteTemplate(templateName: String!): Boolean
    saveEndpoint(input: EndpointInput!): Endpoint
    deleteEndpoint(id: String!): Boolean
    updateEndpointTemplate(input: UpdateEndpointTemplateInput): Endpoint
    createNetworkVolume(input: CreateNetworkVolumeInput!): NetworkVolume
    deleteNetworkVolume(input: DeleteNetworkVolumeInput!): Boolean
  }
`;

/** A plane added to the schema with `ControlPlane.extend`. */
interface Extension {
  sdl: string;
  root: () => Record<string, unknown>;
  myself: () => Record<string, unknown>;
}

/** A GraphQL reply: its HTTP status and body. */
export interface GraphqlReply {
  status: number;
  body: Record<string, unknown>;
}

/** Runpod-style ids: 14 lowercase alphanumerics (`i02xupws21hp6i`). */
export function runpodId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(14));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** Fields whose change rolls the workers (bumps `version`; https://docs.runpod.io/serverless/endpoints/manage-endpoints, "Edit an endpoint"). */
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

/** Ports the platform gives LB workers when the template names none (Runpod docs load-balancing/overview.mdx). */
const LB_DEFAULT_PORT = "80";

/** Input the platform refuses: GraphQL answers it in `errors` with HTTP 200, REST with 400. */
export class RejectedInput extends Error {}

/**
 * The emulator's control plane: templates and endpoints, edited through the same GraphQL operations as
 * api.runpod.io (a real GraphQL schema, so selection sets, variables and errors behave like the real thing).
 */
export class ControlPlane {
  readonly templates = new Map<string, EmulatedTemplate>();
  readonly endpoints = new Map<string, EmulatedEndpoint>();
  readonly volumes = new Map<string, EmulatedVolume>();
  private schema: GraphQLSchema = buildSchema(SDL);
  private readonly extensions: Extension[] = [];
  /** See ControlPlaneOptions; public so a test can change a rule on a running emulator. */
  requireZeroWorkersToDelete: boolean;
  templateDeleteDelayMs: number;
  injectLbPortEnv: boolean;
  /** Called after an endpoint is created or updated (the supervisor rescales or rolls) or deleted. */
  onEndpointChange: (endpoint: EmulatedEndpoint, change: "saved" | "deleted") => void = () => {};

  constructor(options: ControlPlaneOptions = {}) {
    this.requireZeroWorkersToDelete = options.requireZeroWorkersToDelete ?? true;
    this.templateDeleteDelayMs = options.templateDeleteDelayMs ?? TEMPLATE_DELETE_LAG_MS;
    this.injectLbPortEnv = options.injectLbPortEnv ?? true;
  }

  /**
   * Run one GraphQL request. A document that does not parse or validate, or variables that do not fit, get HTTP
   * 400 with `errors` and no `data` (as Apollo-style servers answer; runpod/runpod-plugins-official#56 reports
   * Runpod's 400 for variables its schema rejects); resolver errors come with HTTP 200 and `data`.
   */
  async execute(query: string, variables?: Record<string, unknown>, operationName?: string): Promise<GraphqlReply> {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return rejected([error as GraphQLError], "GRAPHQL_PARSE_FAILED");
    }
    const invalid = validate(this.schema, document);
    if (invalid.length) return rejected(invalid, "GRAPHQL_VALIDATION_FAILED");
    const result = (await execute({
      schema: this.schema,
      document,
      rootValue: this.extendedRoot(),
      variableValues: variables,
      operationName,
    })) as ExecutionResult;
    // No `data` at all means the request never ran: bad variables or a missing/ambiguous operation.
    if (result.data === undefined && result.errors?.length) return rejected(result.errors, "BAD_USER_INPUT");
    const body: Record<string, unknown> = { data: result.data ?? null };
    if (result.errors?.length) {
      body.errors = result.errors.map((e) => ({ message: e.message, path: e.path, extensions: { code: codeOf(e) } }));
    }
    return { status: 200, body };
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
      computeType: e.instanceIds?.length ? "CPU" : "GPU",
      networkVolume: e.networkVolumeId ? (this.volumes.get(e.networkVolumeId) ?? null) : null,
      networkVolumeIds: e.networkVolumeId
        ? [{ networkVolumeId: e.networkVolumeId, dataCenterId: this.volumes.get(e.networkVolumeId)?.dataCenterId }]
        : [],
    });
    const templateView = (t: EmulatedTemplate) => ({ ...t, isRunpod: false, category: null, portsConfig: [] });
    return {
      myself: () => ({
        id: "user_emulator",
        pubKey: "",
        networkVolumes: () => [...this.volumes.values()],
        endpoints: () => [...this.endpoints.values()].map(view),
        endpoint: ({ id }: { id: string }) => {
          const e = this.endpoints.get(id);
          return e ? view(e) : null;
        },
        podTemplates: () => [...this.templates.values()].map(templateView),
      }),
      podTemplate: ({ id }: { id: string }) => {
        const t = this.templates.get(id);
        return t ? templateView(t) : null;
      },
      // runpodctl `template list` asks for official (isRunpod) and community (isPublic) templates: the emulator
      // has none of those, only the user's own.
      podTemplates: ({ input }: { input?: { isRunpod?: boolean; isPublic?: boolean } }) =>
        input?.isRunpod || input?.isPublic ? [] : [...this.templates.values()].map(templateView),
      gpuTypes: ({ input }: { input?: { id?: string; ids?: string[] } }) => {
        const wanted = input?.ids ?? (input?.id ? [input.id] : undefined);
        return gpuModels()
          .filter((g) => !wanted || wanted.includes(g.id))
          .map((g) => ({
            id: g.id,
            displayName: g.id.replace(/^NVIDIA (GeForce )?/, ""),
            memoryInGb: g.memoryInGb,
            maxGpuCount: 8,
            manufacturer: "Nvidia",
            secureCloud: true,
            communityCloud: true,
            // The emulator has unlimited stock and no prices.
            lowestPrice: () => ({ minimumBidPrice: null, uninterruptablePrice: null, stockStatus: "High" }),
          }));
      },
      cpuFlavors: ({ input }: { input?: { id?: string } }) => {
        const flavors = [...new Set(CPU_INSTANCE_IDS.map((i) => i.split("-")[0]!))];
        return flavors
          .filter((id) => !input?.id || input.id === id)
          .map((id) => ({ id, displayName: id, specifics: () => ({ stockStatus: "High" }) }));
      },
      saveTemplate: ({ input }: { input: any }) => templateView(this.saveTemplate(input)),
      deleteTemplate: ({ templateName }: { templateName: string }) => this.deleteTemplate(templateName),
      saveEndpoint: ({ input }: { input: any }) => view(this.saveEndpoint(input)),
      deleteEndpoint: ({ id }: { id: string }) => this.deleteEndpoint(id),
      createNetworkVolume: ({ input }: { input: any }) => this.createVolume(input),
      deleteNetworkVolume: ({ input }: { input: { id: string } }) => this.deleteVolume(input.id),
      updateEndpointTemplate: ({ input }: { input: { endpointId: string; templateId: string } }) => {
        const e = this.endpoints.get(input.endpointId);
        if (!e) throw new RejectedInput(`Endpoint ${input.endpointId} not found`);
        if (!this.templates.has(input.templateId)) throw new RejectedInput(`Template ${input.templateId} not found`);
        if (e.templateId !== input.templateId) this.released(e.templateId);
        e.templateId = input.templateId;
        e.version++;
        this.onEndpointChange(e, "saved");
        return view(e);
      },
    };
  }

  /**
   * Create or update a template. An update is a full replace: a field the input leaves out gets its default
   * (runpodctl internal/api/endpoints.go: "saveEndpoint is a full replace"; flash serverless.py: "When we send a
   * full env replacement we must carry those vars forward"), so env the platform injected is gone after it.
   */
  saveTemplate(input: any): EmulatedTemplate {
    const previous = input.id ? this.templates.get(input.id) : undefined;
    if (input.id && !previous) throw new RejectedInput(`Template ${input.id} not found`);
    const name = String(input.name ?? "").trim();
    if (!name) throw new RejectedInput("Template name is required");
    const clash = [...this.templates.values()].find((t) => t.name === name && t.id !== input.id);
    // Runpod docs manage-pod-templates.mdx: template names are unique. The real wording is undocumented.
    if (clash) throw new RejectedInput(`Template name must be unique: "${name}" is already taken`);
    if (!input.imageName) throw new RejectedInput("imageName is required");
    if (!Number.isInteger(input.containerDiskInGb) || input.containerDiskInGb < 1) {
      throw new RejectedInput(`containerDiskInGb must be a positive integer, got ${input.containerDiskInGb}`);
    }
    const template: EmulatedTemplate = {
      id: previous?.id ?? runpodId(),
      name,
      imageName: input.imageName,
      dockerArgs: input.dockerArgs ?? "",
      containerDiskInGb: input.containerDiskInGb,
      volumeInGb: input.volumeInGb ?? 0,
      volumeMountPath: input.volumeMountPath ?? null,
      ports: input.ports ?? null,
      env: envOf(input.env),
      isServerless: input.isServerless ?? false,
      isPublic: input.isPublic ?? false,
      startSsh: input.startSsh ?? false,
      startJupyter: input.startJupyter ?? false,
      advancedStart: input.advancedStart ?? false,
      containerRegistryAuthId: input.containerRegistryAuthId || null,
      readme: input.readme ?? "",
      startScript: input.startScript ?? null,
      lastUsedAt: previous?.lastUsedAt ?? 0,
    };
    this.templates.set(template.id, template);
    // A changed template rolls every endpoint that runs it (new version; the supervisor replaces workers).
    for (const e of this.endpoints.values()) {
      if (e.templateId !== template.id) continue;
      e.version++;
      this.onEndpointChange(e, "saved");
    }
    return template;
  }

  /** Delete a template by name (GraphQL `deleteTemplate(templateName:)`); throws what the API would answer. */
  deleteTemplate(name: string): null {
    const t = [...this.templates.values()].find((x) => x.name === name);
    if (!t) throw new RejectedInput(`Template "${name}" not found`);
    const user = [...this.endpoints.values()].find((e) => e.templateId === t.id);
    if (user) throw new RejectedInput(`Template "${name}" is in use by endpoint ${user.id}`);
    const since = Date.now() - t.lastUsedAt;
    if (since < this.templateDeleteDelayMs) {
      const wait = Math.ceil((this.templateDeleteDelayMs - since) / 1000);
      throw new RejectedInput(
        `Template "${name}" was used by an endpoint moments ago; it can take up to ` +
          `${Math.ceil(this.templateDeleteDelayMs / 1000)} s after its most recent use to delete a template ` +
          `(try again in ${wait} s)`,
      );
    }
    this.templates.delete(t.id);
    return null;
  }

  /** Create or update (with `id`: a full replace) an endpoint from an EndpointInput; throws on invalid input. */
  saveEndpoint(input: any): EmulatedEndpoint {
    if (input.template && input.templateId) {
      throw new RejectedInput("templateId and template are mutually exclusive; send one");
    }
    const previous = input.id ? this.endpoints.get(input.id) : undefined;
    if (input.id && !previous) throw new RejectedInput(`Endpoint ${input.id} not found`);
    const fields = validEndpointFields(input);
    let templateId: string | undefined = input.templateId;
    if (input.template) {
      const inline = {
        containerDiskInGb: 10,
        volumeInGb: 0,
        isServerless: true,
        ...input.template,
        name: input.template.name ?? `${input.name}__template__${runpodId().slice(0, 7)}`,
      };
      const existing = [...this.templates.values()].find((t) => t.name === inline.name);
      templateId = this.saveTemplate({ ...inline, id: existing?.id }).id;
    }
    if (!templateId) throw new RejectedInput("templateId or template is required");
    const template = this.templates.get(templateId);
    if (!template) throw new RejectedInput(`Template ${templateId} not found`);
    if (fields.networkVolumeId) this.checkVolume(fields.networkVolumeId, fields.locations);
    const cpu = fields.instanceIds?.[0];
    if (cpu && template.containerDiskInGb > cpuMaxDiskGb(cpu)) {
      throw new RejectedInput(
        `containerDiskInGb ${template.containerDiskInGb} exceeds the ${cpuMaxDiskGb(cpu)} GB that ${cpu} allows`,
      );
    }
    const endpoint: EmulatedEndpoint = {
      ...fields,
      id: previous?.id ?? runpodId(),
      aiKey: previous?.aiKey ?? `rpa_${runpodId()}${runpodId()}`,
      userId: "user_emulator",
      version: previous?.version ?? 0,
      templateId,
      createdAt: previous?.createdAt ?? new Date().toISOString(),
    };
    if (previous && STRUCTURAL.some((k) => JSON.stringify(previous[k]) !== JSON.stringify(endpoint[k]))) {
      endpoint.version++;
    }
    if (previous && previous.templateId !== templateId) this.released(previous.templateId);
    if (!previous && endpoint.type === "LB" && this.injectLbPortEnv) injectPortEnv(template);
    this.endpoints.set(endpoint.id, endpoint);
    this.onEndpointChange(endpoint, "saved");
    return endpoint;
  }

  /**
   * Create a network volume from `{name, size, dataCenterId}` (the body of Runpod's `POST /networkvolumes`,
   * docs.runpod.io/storage/network-volumes; GraphQL createNetworkVolume takes the same input). Names need not be
   * unique on Runpod; flash finds its volume by name + data center. Sizes: 1 to 4000 GB (runpod-rust-sdk
   * NetworkVolumeCreateInput documents the REST bounds; REST v2's CreateNetworkVolumeRequest allows 10 to 4096, and
   * the v2 plane checks its own lower bound before this one).
   */
  createVolume(input: any): EmulatedVolume {
    const name = String(input?.name ?? "");
    if (!name.trim()) throw new RejectedInput("name is required");
    const size = input?.size;
    if (!Number.isInteger(size) || size < 1 || size > 4096) {
      throw new RejectedInput(`size must be a whole number of GB from 1 to 4096, got ${JSON.stringify(size)}`);
    }
    const dataCenterId = String(input?.dataCenterId ?? "");
    if (!isLocation(dataCenterId)) {
      throw new RejectedInput(`dataCenterId: "${dataCenterId}" is not a data-center id such as EU-RO-1`);
    }
    const volume: EmulatedVolume = { id: runpodId().slice(0, 10), name, size, dataCenterId };
    this.volumes.set(volume.id, volume);
    return volume;
  }

  /** Delete a network volume; refused while an endpoint uses it (its workers have it mounted). */
  deleteVolume(id: string): boolean {
    if (!this.volumes.has(id)) throw new RejectedInput(`Network volume ${id} not found`);
    const user = [...this.endpoints.values()].find((e) => e.networkVolumeId === id);
    if (user) throw new RejectedInput(`Network volume ${id} is attached to endpoint ${user.id}; detach it first`);
    this.volumes.delete(id);
    return true;
  }

  /** Delete an endpoint; `zeroRule` false skips the 0/0 check (REST v2 deletes without it: planes/rest-v2.ts). */
  deleteEndpoint(id: string, zeroRule = true): null {
    const e = this.endpoints.get(id);
    if (!e) throw new RejectedInput(`Endpoint ${id} not found`);
    if (zeroRule && this.requireZeroWorkersToDelete && (e.workersMin !== 0 || e.workersMax !== 0)) {
      throw new RejectedInput(
        `Endpoint ${id} has workersMin ${e.workersMin} and workersMax ${e.workersMax}: set both to 0 before deleting it`,
      );
    }
    this.endpoints.delete(id);
    this.released(e.templateId);
    this.onEndpointChange(e, "deleted");
    return null;
  }

  /**
   * An endpoint's volume must exist, and its workers run where the volume is ("your deployments will be
   * constrained to the datacenter where the volume is located": docs.runpod.io/storage/network-volumes).
   */
  private checkVolume(id: string, locations: string | null): void {
    const volume = this.volumes.get(id);
    if (!volume) throw new RejectedInput(`Network volume ${id} not found`);
    const allowed = locations?.split(",").map((l) => l.trim());
    if (allowed && !allowed.includes(volume.dataCenterId)) {
      throw new RejectedInput(
        `network volume ${id} is in ${volume.dataCenterId}, outside the endpoint's locations (${locations})`,
      );
    }
  }

  /** An endpoint stopped using a template: its deletion delay starts now. */
  private released(templateId: string): void {
    const t = this.templates.get(templateId);
    if (t) t.lastUsedAt = Date.now();
  }
}

/** The stored fields of an EndpointInput, validated the way the platform does (defaults: https://docs.runpod.io/serverless/endpoints/endpoint-configurations). */
function validEndpointFields(
  input: any,
): Omit<EmulatedEndpoint, "id" | "aiKey" | "userId" | "version" | "templateId" | "createdAt"> {
  const type = input.type ?? "QB";
  if (type !== "QB" && type !== "LB") throw new RejectedInput(`type must be QB or LB, got "${type}"`);
  const name = String(input.name ?? "");
  if (name.trim().length === 0) throw new RejectedInput("name is required");
  const instanceIds: string[] | null = input.instanceIds?.length ? input.instanceIds : null;
  for (const id of instanceIds ?? []) {
    if (!CPU_INSTANCE_IDS.includes(id)) {
      throw new RejectedInput(
        `instanceIds: unknown CPU instance "${id}" (expected one of ${CPU_INSTANCE_IDS.join(", ")})`,
      );
    }
  }
  const gpuIds = String(input.gpuIds ?? (instanceIds ? "" : "AMPERE_16"));
  // flash serverless_cpu.py drops gpuIds for CPU endpoints "to prevent the RunPod GraphQL API from rejecting CPU
  // endpoints"; whether "" is accepted is not documented (`flash doctor runpod` checks it), so "" passes and a pool does not.
  if (instanceIds && gpuIds !== "") throw new RejectedInput("a CPU endpoint (instanceIds) cannot also set gpuIds");
  if (!instanceIds) validateGpuIds(gpuIds);
  const workersMin = input.workersMin ?? 0;
  const workersMax = input.workersMax ?? 3;
  if (workersMin < 0 || workersMax < 0) throw new RejectedInput("workersMin and workersMax must not be negative");
  if (workersMin > workersMax) {
    throw new RejectedInput(`workersMin (${workersMin}) must not exceed workersMax (${workersMax})`);
  }
  const idleTimeout = input.idleTimeout ?? 5;
  // flash (commit 57aebbf4, #287) enforces 1–3600 s before sending, after the API rejected other values.
  if (idleTimeout < 1 || idleTimeout > 3600) {
    throw new RejectedInput(`idleTimeout must be from 1 to 3600 seconds, got ${idleTimeout}`);
  }
  const scalerType = input.scalerType ?? (type === "LB" ? "REQUEST_COUNT" : "QUEUE_DELAY");
  if (scalerType !== "QUEUE_DELAY" && scalerType !== "REQUEST_COUNT") {
    throw new RejectedInput(`scalerType must be QUEUE_DELAY or REQUEST_COUNT, got "${scalerType}"`);
  }
  const scalerValue = input.scalerValue ?? 4;
  if (scalerValue < 1) throw new RejectedInput(`scalerValue must be at least 1, got ${scalerValue}`);
  const locations: string | null = input.locations || null;
  for (const l of locations?.split(",") ?? []) {
    if (!isLocation(l.trim())) throw new RejectedInput(`locations: "${l}" is not a data-center id such as EU-RO-1`);
  }
  const cuda: string | null = input.allowedCudaVersions || null;
  for (const v of cuda?.split(",") ?? []) {
    if (!CUDA_VERSIONS.includes(v.trim())) throw new RejectedInput(`allowedCudaVersions: unknown CUDA version "${v}"`);
  }
  if (input.minCudaVersion && !CUDA_VERSIONS.includes(input.minCudaVersion)) {
    throw new RejectedInput(`minCudaVersion: unknown CUDA version "${input.minCudaVersion}"`);
  }
  const executionTimeoutMs = input.executionTimeoutMs ?? 0;
  if (executionTimeoutMs < 0) throw new RejectedInput("executionTimeoutMs must not be negative");
  const gpuCount = input.gpuCount ?? (instanceIds ? 0 : 1);
  if (!instanceIds && gpuCount < 1) throw new RejectedInput(`gpuCount must be at least 1, got ${gpuCount}`);
  return {
    name,
    gpuIds,
    gpuCount,
    instanceIds,
    workersMin,
    workersMax,
    workersStandby: input.workersStandby ?? 0,
    workersPFBTarget: input.workersPFBTarget ?? 0,
    idleTimeout,
    scalerType,
    scalerValue,
    locations,
    networkVolumeId: input.networkVolumeId || input.networkVolumeIds?.[0]?.networkVolumeId || null,
    flashBootType: input.flashBootType ?? null,
    allowedCudaVersions: cuda,
    minCudaVersion: input.minCudaVersion ?? null,
    executionTimeoutMs,
    type,
    flashEnvironmentId: input.flashEnvironmentId ?? null,
    modelReferences: input.modelReferences ?? null,
    env: envOf(input.env),
  };
}

/** `gpuIds`: comma-separated pool ids, each optionally followed by `-<GPU model>` exclusions of that pool. */
function validateGpuIds(gpuIds: string): void {
  const entries = gpuIds.split(",").map((s) => s.trim());
  if (!entries.some((e) => e && !e.startsWith("-"))) throw new RejectedInput("gpuIds must name at least one GPU pool");
  const models = new Set(Object.values(GPU_POOLS).flatMap((p) => p.models));
  for (const entry of entries) {
    if (entry.startsWith("-")) {
      if (!models.has(entry.slice(1))) throw new RejectedInput(`gpuIds: unknown GPU type "${entry.slice(1)}"`);
    } else if (!(entry in GPU_POOLS)) {
      throw new RejectedInput(
        `gpuIds: unknown GPU pool "${entry}" (expected one of ${Object.keys(GPU_POOLS).join(", ")})`,
      );
    }
  }
}

function envOf(env: unknown): EnvVar[] {
  if (!Array.isArray(env)) return [];
  return env.map((v: EnvVar) => ({ key: v.key, value: v.value ?? "" }));
}

/** The env Runpod adds to an LB endpoint's template at first deploy (see `injectLbPortEnv`). */
function injectPortEnv(template: EmulatedTemplate): void {
  const has = (key: string) => template.env.some((v) => v.key === key);
  if (!has("PORT")) template.env.push({ key: "PORT", value: LB_DEFAULT_PORT });
  if (!has("PORT_HEALTH")) template.env.push({ key: "PORT_HEALTH", value: LB_DEFAULT_PORT });
}

function codeOf(error: GraphQLError): string {
  return error.originalError instanceof RejectedInput ? "BAD_USER_INPUT" : "INTERNAL_SERVER_ERROR";
}

function rejected(errors: readonly GraphQLError[], code: string): GraphqlReply {
  return {
    status: 400,
    body: { errors: errors.map((e) => ({ message: e.message, locations: e.locations, extensions: { code } })) },
  };
}
