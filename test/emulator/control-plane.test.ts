/**
 * The emulator's GraphQL control plane against the exact documents Runpod's official clients send
 * (test/emulator/client-documents.ts: runpod-python, runpodctl, runpod/flash, the docs), sent over real HTTP the
 * way each client sends them, and the platform rules those clients run into: HTTP 400 for documents the schema
 * rejects, full-replace templates, the template deletion delay, the 0/0 rule of deleteEndpoint, field validation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import * as docs from "./client-documents";

const KEY = "rpa_control_plane_test_key_000000";
/** A key restricted to calling endpoints (a Runpod API key with restricted permissions). */
const CALL_KEY = "rpa_call_only_key_0000000000000000";
const DELETE_DELAY_MS = 400;
let em: Emulator;

/** POST a document like runpod-python's `run_graphql_query` (no variables) or the Go/flash clients (variables). */
async function gql(query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${em.apiBaseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** What runpod-python's run_graphql_query does with a reply (runpod/api/graphql.py): 401, then `errors`. */
async function pythonQuery(query: string): Promise<any> {
  const { status, body } = await gql(query);
  if (status === 401) throw new Error("Unauthorized request, please check your API key.");
  if (body.errors) throw new Error(body.errors[0].message);
  return body;
}

/** What runpodctl's Query does (internal/api/graphql.go): any status but 200 is an error, then `errors`. */
async function ctlQuery(query: string, variables: Record<string, unknown>): Promise<any> {
  const { status, body } = await gql(query, variables);
  if (status !== 200) throw new Error(`graphql error: status ${status}: ${JSON.stringify(body)}`);
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

let seq = 0;
const unique = (base: string) => `${base}-${++seq}`;

async function makeTemplate(extra: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const name = unique("tpl");
  const data = await ctlQuery(docs.FLASH_SAVE_TEMPLATE, {
    input: { name, imageName: "myorg/img:1", containerDiskInGb: 10, volumeInGb: 0, dockerArgs: "", env: [], ...extra },
  });
  return { id: data.saveTemplate.id, name };
}

beforeAll(() => {
  em = startEmulator({ apiKey: KEY, callKeys: [CALL_KEY], control: { templateDeleteDelayMs: DELETE_DELAY_MS } });
});
afterAll(async () => {
  await em.stop();
});

describe("runpod-python's documents (runpod/api/*)", () => {
  test("create_template, create_endpoint, get_endpoints (networkVolume, env), update_endpoint_template", async () => {
    const name = unique("py");
    const tpl = (await pythonQuery(docs.fill(docs.PY_CREATE_TEMPLATE, { NAME: name, IMAGE: "myorg/py:1" }))).data
      .saveTemplate;
    expect(tpl).toMatchObject({
      name,
      imageName: "myorg/py:1",
      dockerArgs: 'python3 -u "handler.py"',
      containerDiskInGb: 10,
      volumeInGb: 0,
      volumeMountPath: null,
      ports: "",
      env: [{ key: "A", value: "1" }],
      isServerless: true,
    });
    const ep = (await pythonQuery(docs.fill(docs.PY_CREATE_ENDPOINT, { NAME: unique("py-ep"), TEMPLATE_ID: tpl.id })))
      .data.saveEndpoint;
    expect(ep).toMatchObject({
      templateId: tpl.id,
      gpuIds: "AMPERE_16",
      networkVolumeId: null,
      locations: null,
      idleTimeout: 5,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      workersMin: 0,
      workersMax: 3,
      allowedCudaVersions: null,
      gpuCount: 1,
      flashBootType: "FLASHBOOT",
    });
    expect(ep.id).toMatch(/^[a-z0-9]{14}$/);
    // runpod.get_endpoints(): rejected before with `Cannot query field "networkVolume" on type "Endpoint"`.
    const list = (await pythonQuery(docs.PY_QUERY_ENDPOINT)).data.myself.endpoints;
    const mine = list.find((e: any) => e.id === ep.id);
    expect(mine).toMatchObject({ aiKey: expect.stringMatching(/^rpa_/), type: "QB", version: 0, workersStandby: 0 });
    expect(mine.networkVolume).toBeNull();
    expect(mine.env).toEqual([]);
    expect(typeof mine.createdAt).toBe("string");
    const other = (await pythonQuery(docs.fill(docs.PY_CREATE_TEMPLATE, { NAME: unique("py2"), IMAGE: "myorg/py:2" })))
      .data.saveTemplate;
    const updated = (
      await pythonQuery(docs.fill(docs.PY_UPDATE_ENDPOINT_TEMPLATE, { ENDPOINT_ID: ep.id, TEMPLATE_ID: other.id }))
    ).data.updateEndpointTemplate;
    expect(updated).toEqual({ id: ep.id, templateId: other.id });
  });

  test("get_user and get_gpus answer", async () => {
    const user = (await pythonQuery(docs.PY_QUERY_USER)).data.myself;
    expect(user).toEqual({ id: "user_emulator", pubKey: "", networkVolumes: [] });
    const gpus = (await pythonQuery(docs.PY_QUERY_GPU_TYPES)).data.gpuTypes;
    expect(gpus).toContainEqual({ id: "NVIDIA GeForce RTX 4090", displayName: "RTX 4090", memoryInGb: 24 });
    expect(gpus).toContainEqual({ id: "NVIDIA H200", displayName: "H200", memoryInGb: 141 });
  });
});

describe("runpodctl's documents (api/endpoint.go, internal/api/*.go)", () => {
  test("CreateTemplate, CreateEndpoint, GetEndpoints, UpdateEndpointTemplate with variables", async () => {
    const name = unique("ctl");
    const tpl = (
      await ctlQuery(docs.CTL_SAVE_TEMPLATE, {
        input: {
          name,
          imageName: "myorg/ctl:1",
          dockerArgs: "",
          containerDiskInGb: 5,
          volumeInGb: 0,
          volumeMountPath: "",
          ports: "",
          env: [{ key: "K", value: "v" }],
          isServerless: true,
          startSsh: false,
          isPublic: false,
          readme: "",
        },
      })
    ).saveTemplate;
    expect(tpl).toMatchObject({ name, advancedStart: false, startJupyter: false, startScript: null, startSsh: false });
    const ep = (
      await ctlQuery(docs.CTL_SAVE_ENDPOINT, {
        input: {
          name: unique("ctl-ep"),
          templateId: tpl.id,
          gpuIds: "AMPERE_24,-NVIDIA L4",
          networkVolumeId: "",
          locations: "",
          idleTimeout: 5,
          scalerType: "QUEUE_DELAY",
          scalerValue: 4,
          workersMin: 0,
          workersMax: 1,
          flashBootType: "FLASHBOOT",
          modelReferences: [],
        },
      })
    ).saveEndpoint;
    expect(ep).toMatchObject({ gpuIds: "AMPERE_24,-NVIDIA L4", templateId: tpl.id, userId: "user_emulator" });
    const list = (await ctlQuery(docs.CTL_GET_ENDPOINTS, {})).myself.endpoints;
    expect(list.map((e: any) => e.id)).toContain(ep.id);
    const other = await makeTemplate();
    const moved = await ctlQuery(docs.CTL_UPDATE_ENDPOINT_TEMPLATE, {
      input: { endpointId: ep.id, templateId: other.id },
    });
    expect(moved.updateEndpointTemplate).toEqual({ id: ep.id, templateId: other.id });
  });

  test("serverless create (inline template, CPU), models round trip, template get and list", async () => {
    const name = unique("ctl-cpu");
    const created = (
      await ctlQuery(docs.CTL_CREATE_ENDPOINT_GQL, {
        input: {
          name,
          template: {
            name: `${name}__template__abc1234`,
            imageName: "myorg/cpu:1",
            containerDiskInGb: 20,
            dockerArgs: "",
            env: [],
          },
          instanceIds: ["cpu3c-2-4"],
          workersMax: 2,
        },
      })
    ).saveEndpoint;
    expect(created).toMatchObject({
      name,
      instanceIds: ["cpu3c-2-4"],
      computeType: "CPU",
      networkVolumeIds: [],
      gpuIds: "",
      workersMax: 2,
      modelReferences: null,
    });
    const round = (
      await ctlQuery(docs.CTL_UPDATE_ENDPOINT_MODELS, {
        input: {
          id: created.id,
          name,
          templateId: created.templateId,
          gpuIds: "",
          gpuCount: 0,
          instanceIds: ["cpu3c-2-4"],
          workersMin: 0,
          workersMax: 2,
          locations: "",
          networkVolumeId: "",
          networkVolumeIds: [],
          idleTimeout: 5,
          scalerType: "QUEUE_DELAY",
          scalerValue: 4,
          executionTimeoutMs: 600000,
          minCudaVersion: "",
          flashBootType: "FLASHBOOT",
          modelReferences: ["hf/some-model"],
        },
      })
    ).saveEndpoint;
    expect(round).toMatchObject({ id: created.id, modelReferences: ["hf/some-model"], executionTimeoutMs: 600000 });
    const tpl = (await ctlQuery(docs.CTL_GET_TEMPLATE, { id: created.templateId })).podTemplate;
    expect(tpl).toMatchObject({ name: `${name}__template__abc1234`, isRunpod: false, portsConfig: [], env: [] });
    expect((await ctlQuery(docs.CTL_LIST_TEMPLATES, { input: { isRunpod: true } })).podTemplates).toEqual([]);
    const own = (await ctlQuery(docs.CTL_LIST_TEMPLATES, {})).podTemplates;
    expect(own.map((t: any) => t.id)).toContain(created.templateId);
  });
});

describe("runpod/flash's documents (core/api/runpod.py) and the docs' literal deleteTemplate", () => {
  test("save/get template, save endpoint (CPU and LB), stock queries, delete endpoint, delete template", async () => {
    const tpl = await makeTemplate({ env: [{ key: "X", value: "1" }] });
    const got = (await ctlQuery(docs.FLASH_GET_TEMPLATE, { id: tpl.id })).podTemplate;
    expect(got).toEqual({
      id: tpl.id,
      containerDiskInGb: 10,
      dockerArgs: "",
      env: [{ key: "X", value: "1" }],
      imageName: "myorg/img:1",
      name: tpl.name,
      readme: "",
    });
    const input = {
      name: unique("live-flash"),
      templateId: tpl.id,
      instanceIds: ["cpu3g-2-8"],
      workersMin: 0,
      workersMax: 1,
      idleTimeout: 60,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      executionTimeoutMs: 0,
      workersPFBTarget: 0,
      flashBootType: "FLASHBOOT",
      type: "QB",
    };
    const ep = (await ctlQuery(docs.FLASH_SAVE_ENDPOINT, { input })).saveEndpoint;
    expect(ep).toMatchObject({ ...input, gpuIds: "", gpuCount: 0, version: 0, networkVolumeIds: [] });
    const gpu = await ctlQuery(docs.FLASH_GPU_STOCK, {
      gpuTypesInput: { ids: ["NVIDIA GeForce RTX 4090"] },
      lowestPriceInput: {
        dataCenterId: null,
        gpuCount: 1,
        secureCloud: true,
        includeAiApi: true,
        allowedCudaVersions: [],
        compliance: [],
      },
    });
    expect(gpu.gpuTypes).toEqual([{ lowestPrice: { stockStatus: "High" } }]);
    const cpu = await ctlQuery(docs.FLASH_CPU_STOCK, {
      cpuFlavorInput: { id: "cpu3g" },
      specificsInput: { dataCenterId: "EU-RO-1", instanceId: "cpu3g-2-8" },
    });
    expect(cpu.cpuFlavors).toEqual([{ specifics: { stockStatus: "High" } }]);
    await ctlQuery(docs.FLASH_SAVE_ENDPOINT, { input: { ...input, id: ep.id, workersMax: 0 } });
    expect(await ctlQuery(docs.FLASH_DELETE_ENDPOINT, { id: ep.id })).toEqual({ deleteEndpoint: null });
    await Bun.sleep(DELETE_DELAY_MS + 100);
    expect((await pythonQuery(docs.fill(docs.DOCS_DELETE_TEMPLATE, { NAME: tpl.name }))).data).toEqual({
      deleteTemplate: null,
    });
    expect((await ctlQuery(docs.FLASH_GET_TEMPLATE, { id: tpl.id })).podTemplate).toBeNull();
  });
});

describe("platform rules", () => {
  test("documents the schema rejects get HTTP 400 with errors; resolver errors come with 200 and data", async () => {
    const unknownField = await gql("query { myself { endpoints { id noSuchField } } }");
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.data).toBeUndefined();
    expect(unknownField.body.errors[0]).toMatchObject({
      message: expect.stringContaining('Cannot query field "noSuchField" on type "Endpoint"'),
      extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
    });
    const syntax = await gql("query { myself {");
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
    // deleteTemplate(templateName: String!): a nullable variable does not fit.
    const nullable = await gql("mutation d($name: String) { deleteTemplate(templateName: $name) }", { name: "x" });
    expect(nullable.status).toBe(400);
    expect(nullable.body.errors[0].message).toContain('type "String" used in position expecting type "String!"');
    const badVariable = await gql("mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
      input: { name: "x", templateId: "t", idleTimeout: 1.5 },
    });
    expect(badVariable.status).toBe(400);
    expect(badVariable.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const missing = await gql("mutation d($name: String!) { deleteTemplate(templateName: $name) }", { name: "nope" });
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({
      data: { deleteTemplate: null },
      errors: [
        { message: 'Template "nope" not found', path: ["deleteTemplate"], extensions: { code: "BAD_USER_INPUT" } },
      ],
    });
  });

  test("saveEndpoint validates fields as the platform does", async () => {
    const tpl = await makeTemplate();
    const save = (fields: Record<string, unknown>) =>
      gql("mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
        input: { name: unique("v"), templateId: tpl.id, ...fields },
      });
    const cases: [Record<string, unknown>, string][] = [
      [{ idleTimeout: 0 }, "idleTimeout must be from 1 to 3600"],
      [{ idleTimeout: 3601 }, "idleTimeout must be from 1 to 3600"],
      [{ gpuIds: "AMPERE_99" }, 'unknown GPU pool "AMPERE_99"'],
      [{ gpuIds: "AMPERE_16,-NVIDIA Voodoo 5" }, 'unknown GPU type "NVIDIA Voodoo 5"'],
      [{ instanceIds: ["cpu9x-1-2"] }, 'unknown CPU instance "cpu9x-1-2"'],
      [{ instanceIds: ["cpu3c-2-4"], gpuIds: "AMPERE_16" }, "cannot also set gpuIds"],
      [
        { templateId: undefined, template: { imageName: "x:1", containerDiskInGb: 30 }, instanceIds: ["cpu3c-2-4"] },
        "containerDiskInGb 30 exceeds the 20 GB that cpu3c-2-4 allows",
      ],
      [{ workersMin: 2, workersMax: 1 }, "must not exceed workersMax"],
      [{ locations: "Mars" }, 'locations: "Mars"'],
      [{ allowedCudaVersions: "12.4,10.1" }, 'unknown CUDA version "10.1"'],
      [{ scalerType: "FASTEST" }, "scalerType must be QUEUE_DELAY or REQUEST_COUNT"],
      [{ type: "XB" }, 'type must be QB or LB, got "XB"'],
      [{ templateId: undefined }, "templateId or template is required"],
    ];
    for (const [fields, message] of cases) {
      const { status, body } = await save(fields);
      expect(status).toBe(200);
      expect(body.errors?.[0]?.message ?? `accepted ${JSON.stringify(fields)}`).toContain(message);
    }
    expect(
      (await save({ locations: "US-KS-2,EU-RO-1", allowedCudaVersions: "12.8,12.9" })).body.errors,
    ).toBeUndefined();
  });

  test("an endpoint with a network volume must allow the volume's data center (one of several is enough)", async () => {
    // "your deployments will be constrained to the datacenter where the volume is located" (docs.runpod.io
    // storage/network-volumes); runpod/flash sends several data centers as one comma-joined `locations`.
    const tpl = await makeTemplate();
    const made = await ctlQuery(
      "mutation v($input: CreateNetworkVolumeInput!) { createNetworkVolume(input: $input) { id dataCenterId } }",
      { input: { name: unique("vol"), size: 10, dataCenterId: "US-KS-2" } },
    );
    const volume = made.createNetworkVolume.id as string;
    const save = (locations: string) =>
      gql("mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id locations networkVolumeId } }", {
        input: { name: unique("dc"), templateId: tpl.id, networkVolumeId: volume, locations },
      });
    expect((await save("EU-RO-1")).body.errors[0].message).toBe(
      `network volume ${volume} is in US-KS-2, outside the endpoint's locations (EU-RO-1)`,
    );
    const ok = (await save("EU-RO-1,US-KS-2")).body;
    expect(ok.errors).toBeUndefined();
    expect(ok.data.saveEndpoint).toMatchObject({ locations: "EU-RO-1,US-KS-2", networkVolumeId: volume });
  });

  test("saveTemplate is a full replace; an LB endpoint gets PORT/PORT_HEALTH in its template once; updates roll", async () => {
    const tpl = await makeTemplate({ env: [{ key: "USER_VAR", value: "1" }] });
    const lb = (
      await ctlQuery(docs.FLASH_SAVE_ENDPOINT, {
        input: { name: unique("lb"), templateId: tpl.id, instanceIds: ["cpu3c-2-4"], type: "LB", workersMax: 1 },
      })
    ).saveEndpoint;
    const env = async () => (await ctlQuery(docs.FLASH_GET_TEMPLATE, { id: tpl.id })).podTemplate.env;
    expect(await env()).toEqual([
      { key: "USER_VAR", value: "1" },
      { key: "PORT", value: "80" },
      { key: "PORT_HEALTH", value: "80" },
    ]);
    // A client that sends only its own env (as flash once did) loses what the platform put there.
    await ctlQuery(docs.FLASH_SAVE_TEMPLATE, {
      input: {
        id: tpl.id,
        name: tpl.name,
        imageName: "myorg/img:2",
        containerDiskInGb: 10,
        volumeInGb: 0,
        env: [{ key: "USER_VAR", value: "2" }],
      },
    });
    expect(await env()).toEqual([{ key: "USER_VAR", value: "2" }]);
    const after = (await ctlQuery(docs.PY_QUERY_ENDPOINT, {})).myself.endpoints.find((e: any) => e.id === lb.id);
    expect(after.version).toBe(1);
    const full = (await ctlQuery(docs.FLASH_GET_TEMPLATE, { id: tpl.id })).podTemplate;
    expect(full).toMatchObject({ imageName: "myorg/img:2", dockerArgs: "", readme: "" });
  });

  test("template names are unique; a template cannot be deleted while used or for a while after", async () => {
    const tpl = await makeTemplate();
    const clash = await gql(docs.FLASH_SAVE_TEMPLATE, {
      input: { name: tpl.name, imageName: "x:1", containerDiskInGb: 5, volumeInGb: 0, env: [] },
    });
    expect(clash.status).toBe(200);
    expect(clash.body.errors[0].message).toContain(`Template name must be unique: "${tpl.name}"`);
    const ep = (
      await ctlQuery(docs.FLASH_SAVE_ENDPOINT, { input: { name: unique("d"), templateId: tpl.id, workersMax: 0 } })
    ).saveEndpoint;
    const del = () => gql("mutation d($name: String!) { deleteTemplate(templateName: $name) }", { name: tpl.name });
    expect((await del()).body.errors[0].message).toContain(`is in use by endpoint ${ep.id}`);
    await ctlQuery(docs.FLASH_DELETE_ENDPOINT, { id: ep.id });
    const early = await del();
    expect(early.body.errors[0].message).toContain("after its most recent use to delete a template");
    // The name is still taken while the template lingers.
    const reuse = await gql(docs.FLASH_SAVE_TEMPLATE, {
      input: { name: tpl.name, imageName: "x:1", containerDiskInGb: 5, volumeInGb: 0, env: [] },
    });
    expect(reuse.body.errors[0].message).toContain("must be unique");
    await Bun.sleep(DELETE_DELAY_MS + 100);
    expect((await del()).body).toEqual({ data: { deleteTemplate: null } });
  });

  test("deleteEndpoint refuses unless workersMin and workersMax are 0", async () => {
    const tpl = await makeTemplate();
    const input = { name: unique("z"), templateId: tpl.id, workersMin: 0, workersMax: 2 };
    const ep = (await ctlQuery(docs.FLASH_SAVE_ENDPOINT, { input })).saveEndpoint;
    const refused = await gql(docs.FLASH_DELETE_ENDPOINT, { id: ep.id });
    expect(refused.body.errors[0].message).toBe(
      `Endpoint ${ep.id} has workersMin 0 and workersMax 2: set both to 0 before deleting it`,
    );
    expect(em.control.endpoints.has(ep.id)).toBe(true);
    await ctlQuery(docs.FLASH_SAVE_ENDPOINT, { input: { ...input, id: ep.id, workersMax: 0 } });
    expect((await gql(docs.FLASH_DELETE_ENDPOINT, { id: ep.id })).body).toEqual({ data: { deleteEndpoint: null } });
    expect(em.control.endpoints.has(ep.id)).toBe(false);
  });
});

describe("a key restricted to calls", () => {
  test("runs jobs and reads their status, and manages nothing (401 on GraphQL and REST v2)", async () => {
    const { id } = (
      await gql(
        'mutation { saveEndpoint(input: {name: "calls-only", workersMax: 0, template: {name: "calls-only-tpl", imageName: "me/x:1", containerDiskInGb: 5, env: []}}) { id } }',
      )
    ).body.data.saveEndpoint;
    const as = (path: string, init: RequestInit = {}) =>
      fetch(`${em.apiBaseUrl}${path}`, {
        ...init,
        headers: { "content-type": "application/json", authorization: `Bearer ${CALL_KEY}` },
      });
    const run = await as(`/v2/${id}/run`, { method: "POST", body: JSON.stringify({ input: { x: 1 } }) });
    expect(run.status).toBe(200);
    const job = (await run.json()) as { id: string };
    expect(((await (await as(`/v2/${id}/status/${job.id}`)).json()) as { status: string }).status).toBe("IN_QUEUE");
    expect((await as(`/v2/${id}/health`)).status).toBe(200);
    expect(
      (await as("/graphql", { method: "POST", body: JSON.stringify({ query: "{ myself { id } }" }) })).status,
    ).toBe(401);
    expect((await as("/v2/serverless")).status).toBe(401);
    expect((await as(`/v2/serverless/${id}`, { method: "DELETE" })).status).toBe(401);
    expect(em.control.endpoints.has(id)).toBe(true);
  });
});
