/**
 * Runpod's REST control plane (`https://rest.runpod.io/v1`, runpod/docs@a900806 api-reference/openapi.json) for
 * endpoints, templates and network volumes, over the same store as the GraphQL API: what runpodctl uses for `serverless
 * list|get|update|delete` and `template list|get|create|update|delete` (runpod/runpodctl@2e2df89
 * internal/api/{endpoints,templates,client}.go; base URL from RUNPOD_API_URL). Shapes follow the OpenAPI schemas:
 * arrays for GPU types and data centers, env as an object, the start command as an array.
 */
import { Elysia } from "elysia";
import { CPU_INSTANCE_IDS, GPU_POOLS } from "../catalog";
import {
  type ControlPlane,
  type EmulatedEndpoint,
  type EmulatedTemplate,
  type EnvVar,
  RejectedInput,
} from "../control-plane";
import type { EmulatorContext } from "./context";

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? {} : { "content-type": "application/json" },
  });

/** `{KEY: value}` (REST) from `[{key, value}]` (GraphQL), and back. */
const envObject = (env: EnvVar[]) => Object.fromEntries(env.map((v) => [v.key, v.value]));
const envList = (env: unknown): EnvVar[] =>
  env && typeof env === "object"
    ? Object.entries(env as Record<string, unknown>).map(([key, value]) => ({ key, value: String(value) }))
    : [];

/** A start command as the REST API carries it (an argv array) from the GraphQL string, and back. */
const argvOf = (command: string) => (command.trim() ? [command] : []);
const commandOf = (argv: unknown) =>
  Array.isArray(argv)
    ? argv.map((a) => (/\s/.test(String(a)) ? `'${String(a).replaceAll("'", "'\\''")}'` : String(a))).join(" ")
    : "";

/** The REST view of a template (schema `Template`). */
function templateView(t: EmulatedTemplate): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    imageName: t.imageName,
    dockerStartCmd: argvOf(t.dockerArgs),
    dockerEntrypoint: [],
    containerDiskInGb: t.containerDiskInGb,
    volumeInGb: t.volumeInGb,
    volumeMountPath: t.volumeMountPath,
    ports: t.ports ? t.ports.split(",").filter(Boolean) : [],
    env: envObject(t.env),
    isServerless: t.isServerless,
    isPublic: t.isPublic,
    isRunpod: false,
    category: null,
    containerRegistryAuthId: t.containerRegistryAuthId,
    readme: t.readme,
  };
}

/** The GPU models of a `gpuIds` string (pools expanded, `-Model` exclusions removed). */
function gpuTypeIds(gpuIds: string): string[] {
  const entries = gpuIds
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const excluded = new Set(entries.filter((e) => e.startsWith("-")).map((e) => e.slice(1)));
  return entries.flatMap((e) => GPU_POOLS[e]?.models ?? []).filter((m) => !excluded.has(m));
}

/** The `gpuIds` pools that hold these GPU models, in order. */
function poolsOf(models: string[]): string {
  const pools: string[] = [];
  for (const m of models) {
    const pool = Object.entries(GPU_POOLS).find(([, p]) => p.models.includes(m))?.[0];
    if (!pool) throw new RejectedInput(`gpuTypeIds: unknown GPU type "${m}"`);
    if (!pools.includes(pool)) pools.push(pool);
  }
  return pools.join(",");
}

/** The REST view of an endpoint (schema `Endpoint`). */
function endpointView(control: ControlPlane, e: EmulatedEndpoint, includeTemplate: boolean): Record<string, unknown> {
  const cpu = !!e.instanceIds?.length;
  const view: Record<string, unknown> = {
    id: e.id,
    name: e.name,
    userId: e.userId,
    templateId: e.templateId,
    version: e.version,
    createdAt: e.createdAt,
    computeType: cpu ? "CPU" : "GPU",
    gpuTypeIds: cpu ? [] : gpuTypeIds(e.gpuIds),
    gpuCount: e.gpuCount,
    instanceIds: e.instanceIds ?? [],
    dataCenterIds: e.locations ? e.locations.split(",") : [],
    env: envObject(e.env),
    executionTimeoutMs: e.executionTimeoutMs,
    idleTimeout: e.idleTimeout,
    scalerType: e.scalerType,
    scalerValue: e.scalerValue,
    workersMin: e.workersMin,
    workersMax: e.workersMax,
    networkVolumeId: e.networkVolumeId,
    networkVolumeIds: e.networkVolumeId ? [e.networkVolumeId] : [],
    allowedCudaVersions: e.allowedCudaVersions ? e.allowedCudaVersions.split(",") : [],
    minCudaVersion: e.minCudaVersion,
  };
  const t = control.templateOf(e);
  if (includeTemplate && t) view.template = templateView(t);
  return view;
}

/** CPU instance id from the REST create input's flavor and vCPU count (`cpu3c` + 2 → `cpu3c-2-4`). */
function instanceOf(flavor: string, vcpus: number): string {
  const id = CPU_INSTANCE_IDS.find((i) => i.startsWith(`${flavor}-${vcpus}-`));
  if (!id) throw new RejectedInput(`no CPU instance ${flavor} with ${vcpus} vCPUs`);
  return id;
}

/** REST endpoint fields → EndpointInput fields (only those present). */
function endpointFields(body: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [
    "name",
    "templateId",
    "gpuCount",
    "workersMin",
    "workersMax",
    "idleTimeout",
    "scalerType",
    "scalerValue",
    "executionTimeoutMs",
    "networkVolumeId",
    "minCudaVersion",
  ]) {
    if (body[k] !== undefined) out[k] = body[k];
  }
  if (Array.isArray(body.gpuTypeIds)) out.gpuIds = poolsOf(body.gpuTypeIds);
  if (Array.isArray(body.cpuFlavorIds) && body.cpuFlavorIds.length) {
    out.instanceIds = [instanceOf(String(body.cpuFlavorIds[0]), Number(body.vcpuCount ?? 2))];
    out.gpuIds = "";
  }
  if (Array.isArray(body.dataCenterIds)) out.locations = body.dataCenterIds.join(",");
  if (Array.isArray(body.allowedCudaVersions)) out.allowedCudaVersions = body.allowedCudaVersions.join(",");
  if (body.flashboot !== undefined) out.flashBootType = body.flashboot ? "FLASHBOOT" : "OFF";
  return out;
}

/** The current EndpointInput of an endpoint (what a partial REST update starts from). */
function currentInput(e: EmulatedEndpoint): Record<string, unknown> {
  return {
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
    env: e.env,
  };
}

/** REST template fields → SaveTemplateInput fields (only those present). */
function templateFields(body: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [
    "name",
    "imageName",
    "containerDiskInGb",
    "volumeInGb",
    "volumeMountPath",
    "isServerless",
    "isPublic",
    "readme",
    "containerRegistryAuthId",
  ]) {
    if (body[k] !== undefined) out[k] = body[k];
  }
  if (body.env !== undefined) out.env = envList(body.env);
  if (body.dockerStartCmd !== undefined) out.dockerArgs = commandOf(body.dockerStartCmd);
  if (Array.isArray(body.ports)) out.ports = body.ports.join(",");
  return out;
}

/** Run a control-plane change; refused input is a 400 `{error}`, an unknown id a 404. */
function attempt(run: () => unknown): Response {
  try {
    const result = run();
    return result instanceof Response ? result : json(200, result);
  } catch (error) {
    if (!(error instanceof RejectedInput)) throw error;
    return json(/not found/.test(error.message) ? 404 : 400, { error: error.message });
  }
}

/** The `/v1` REST routes, on the emulator's control plane. */
export function restV1({ control }: EmulatorContext) {
  const endpoint = (id: string) => control.endpoints.get(id);
  const template = (id: string) => control.templates.get(id);
  const updateEndpoint = (id: string, body: unknown) =>
    attempt(() => {
      const e = endpoint(id);
      if (!e) return json(404, { error: `endpoint ${id} not found` });
      const saved = control.saveEndpoint({
        ...currentInput(e),
        ...endpointFields((body ?? {}) as Record<string, any>),
      });
      return endpointView(control, saved, false);
    });
  const updateTemplate = (id: string, body: unknown) =>
    attempt(() => {
      const t = template(id);
      if (!t) return json(404, { error: `template ${id} not found` });
      // REST updates are partial: start from the stored template, then a GraphQL-style full replace.
      const base = {
        id: t.id,
        name: t.name,
        imageName: t.imageName,
        containerDiskInGb: t.containerDiskInGb,
        volumeInGb: t.volumeInGb,
        volumeMountPath: t.volumeMountPath,
        dockerArgs: t.dockerArgs,
        env: t.env,
        ports: t.ports,
        isServerless: t.isServerless,
        isPublic: t.isPublic,
        readme: t.readme,
        containerRegistryAuthId: t.containerRegistryAuthId,
      };
      return templateView(control.saveTemplate({ ...base, ...templateFields((body ?? {}) as Record<string, any>) }));
    });
  return (
    new Elysia({ prefix: "/v1" })
      .get("/endpoints", ({ query }) =>
        [...control.endpoints.values()].map((e) => endpointView(control, e, query.includeTemplate === "true")),
      )
      .post("/endpoints", ({ body }) =>
        attempt(() => {
          const fields = endpointFields((body ?? {}) as Record<string, any>);
          if (!fields.templateId) throw new RejectedInput("templateId is required");
          return endpointView(control, control.saveEndpoint({ name: "endpoint", ...fields }), false);
        }),
      )
      .get("/endpoints/:id", ({ params, query }) => {
        const e = endpoint(params.id);
        return e
          ? endpointView(control, e, query.includeTemplate === "true")
          : json(404, { error: `endpoint ${params.id} not found` });
      })
      .patch("/endpoints/:id", ({ params, body }) => updateEndpoint(params.id, body))
      .post("/endpoints/:id/update", ({ params, body }) => updateEndpoint(params.id, body))
      // runpodctl `serverless delete` calls this directly, without scaling to 0/0 first, so the REST delete is taken
      // not to enforce the rule that the GraphQL docs state.
      .delete("/endpoints/:id", ({ params }) =>
        attempt(() => (control.deleteEndpoint(params.id, false), json(204, undefined))),
      )
      .get("/templates", () => [...control.templates.values()].map(templateView))
      .post("/templates", ({ body }) =>
        attempt(() => {
          const fields = templateFields((body ?? {}) as Record<string, any>);
          return templateView(control.saveTemplate({ containerDiskInGb: 50, volumeInGb: 0, env: [], ...fields }));
        }),
      )
      .get("/templates/:id", ({ params }) => {
        const t = template(params.id);
        return t ? templateView(t) : json(404, { error: `template ${params.id} not found` });
      })
      .patch("/templates/:id", ({ params, body }) => updateTemplate(params.id, body))
      .post("/templates/:id/update", ({ params, body }) => updateTemplate(params.id, body))
      .delete("/templates/:id", ({ params }) =>
        attempt(() => {
          const t = template(params.id);
          if (!t) return json(404, { error: `template ${params.id} not found` });
          control.deleteTemplate(t.name);
          return json(204, undefined);
        }),
      )
      // Network volumes: `{id, name, size, dataCenterId}` both ways, as runpod/flash reads and writes them
      // (core/resources/network_volume.py: GET /networkvolumes, then POST /networkvolumes {name, size, dataCenterId}).
      .get("/networkvolumes", () => [...control.volumes.values()])
      .post("/networkvolumes", ({ body }) => attempt(() => control.createVolume(body ?? {})))
      .get("/networkvolumes/:id", ({ params }) => {
        const v = control.volumes.get(params.id);
        return v ?? json(404, { error: `network volume ${params.id} not found` });
      })
      .delete("/networkvolumes/:id", ({ params }) =>
        attempt(() => (control.deleteVolume(params.id), json(204, undefined))),
      )
  );
}
