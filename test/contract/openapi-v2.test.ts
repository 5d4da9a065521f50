/**
 * The emulator's REST v2 surface against Runpod's published document (runpod/docs api-reference-v2/openapi.json,
 * vendored with its commit in core/emulator/openapi-v2.source.json): every request flash's client sends
 * while it provisions, updates and removes endpoints, templates and network volumes and reads the catalog, and every
 * reply the emulator gives (successes and problem+json errors), is validated with a JSON Schema 2020-12 validator
 * against the document's schemas. A newer document is one file to replace; this test then says what changed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateAgainst } from "../../core/emulator/openapi-v2";
import type { RestV2Exchange } from "../../core/emulator/planes/rest-v2";
import { startEmulator, type Emulator } from "../../core/emulator/server";
import {
  CpuLiveLoadBalancer,
  CpuLiveServerless,
  LiveLoadBalancer,
  LiveServerless,
  NetworkVolume,
  ServerlessEndpoint,
} from "../../core/remote/config";
import { GpuGroup } from "../../core/remote/enums";
import { RunpodHttp } from "../../core/runpod/http";
import { Provisioner } from "../../core/runpod/provision";
import { RunpodRestV2, RestV2Error } from "../../core/runpod/rest-v2";
import { workerProgram } from "../../core/runpod/worker-program";
import source from "../../core/emulator/openapi-v2.source.json";
import { checkExchange, operationOf, requiredOf, responseSchemaOf } from "./openapi-v2.check";

const KEY = "rpa_openapi_v2_contract_key_000000";
let em: Emulator;
let tmp: string;
const exchanges: RestV2Exchange[] = [];
/** Exchanges of flash's own client (not the hand-made bad requests below). */
let fromFlash: RestV2Exchange[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-openapi-v2-"));
  em = startEmulator({
    apiKey: KEY,
    retireGraphql: true,
    restPerMinute: 100_000,
    restObserver: (x) => exchanges.push(x),
    // No worker runs: this test is about the control plane.
    workers: {
      images: { "oven/bun": ["sleep", "30"], "runpod/pytorch": ["sleep", "30"] },
      volumesDir: join(tmp, "volumes"),
    },
  });
});
afterAll(async () => {
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const rest = () => new RunpodRestV2(new RunpodHttp(KEY, { attempts: 1 }), em.apiBaseUrl);
const provisioner = (live: boolean, name = "state") =>
  new Provisioner({
    rest: rest(),
    statePath: join(tmp, name, "resources.json"),
    apiBaseUrl: em.apiBaseUrl,
    live,
    workspace: "0123456789abcdef",
    program: workerProgram,
  });

async function raw(method: string, path: string, body?: unknown, key = KEY) {
  const res = await fetch(`${em.apiBaseUrl}/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : undefined };
}

describe("flash's REST v2 client against the emulator, checked with Runpod's document", () => {
  test("the vendored document is Runpod's REST v2, with its commit recorded", () => {
    expect(source.commit).toMatch(/^a900806e/);
    expect(source.info.version).toBe("2.0.0");
    expect(validateAgainst("ErrorResponse", { title: "Not Found", status: 404, detail: "x" })).toEqual([]);
  });

  test("provisioning, updates, teardown, templates, volumes and the catalog conform, request and reply", async () => {
    const start = exchanges.length;
    const p = provisioner(true);
    const volume = new NetworkVolume({ name: "contract-data", size: 10 });
    // GPU queue (default image: minCudaVersion), CPU queue with a volume, CPU and GPU load-balanced, custom image.
    await p.ensure(new LiveServerless({ name: "gpu_q", gpus: [GpuGroup.ADA_24, GpuGroup.AMPERE_16] }));
    await p.ensure(new CpuLiveServerless({ name: "cpu_q", networkVolume: volume, workersMax: 2 }));
    await p.ensure(new CpuLiveLoadBalancer({ name: "cpu_lb" }));
    await p.ensure(new LiveLoadBalancer({ name: "gpu_lb", scalerValue: 2 }));
    await p.ensure(new ServerlessEndpoint({ name: "custom", imageName: "myorg/worker:1", workersMax: 1 }));
    // A second session changes scaling only, then the env (a new release), then the type (replace).
    await provisioner(true).ensure(new CpuLiveServerless({ name: "cpu_q", networkVolume: volume, workersMax: 4 }));
    await provisioner(true).ensure(
      new CpuLiveServerless({ name: "cpu_q", networkVolume: volume, workersMax: 4, env: { A: "1" } }),
    );
    const client = rest();
    const [first] = await client.listEndpoints();
    await client.getEndpoint(first!.id);
    await client.request("GET", `/serverless/${first!.id}/workers`);
    // Templates: create, read, update, list, delete; an endpoint from a template.
    const tpl = await client.createTemplate({ name: "contract-tpl", image: "myorg/t:1", serverless: true, env: {} });
    await client.getTemplate(tpl.id);
    await client.updateTemplate(tpl.id, { env: { B: "2" }, disk: 15 });
    await client.listTemplates();
    const fromTemplate = await client.createEndpoint({
      name: "from-template",
      type: "QUEUE",
      templateId: tpl.id,
      gpu: { pools: ["ADA_24"] },
      scaling: { type: "QUEUE_DELAY", queueDelay: 4 },
    });
    await client.deleteEndpoint(fromTemplate.id);
    await client.deleteTemplate(tpl.id);
    // Volumes: list, create, update, delete.
    const v = await client.createNetworkVolume({ name: "contract-vol", size: 20, dataCenter: "EU-RO-1" });
    await client.request("PATCH", `/network-volumes/${v.id}`, { size: 30 });
    await client.request("GET", `/network-volumes/${v.id}`);
    await client.deleteNetworkVolume(v.id);
    // The catalog, with and without availability.
    await client.gpuTypes();
    await client.gpuTypes(true);
    await client.cpuTypes(true);
    await client.dataCenters();
    expect(await p.cleanup()).toMatchObject({ failed: 0 });
    await provisioner(false).ensure(new CpuLiveServerless({ name: "cpu_q" }));
    await provisioner(false).ensure(new CpuLiveLoadBalancer({ name: "cpu_q" })); // a type change replaces it

    fromFlash = exchanges.slice(start);
    const problems = fromFlash.flatMap(checkExchange);
    expect(problems).toEqual([]);
    expect(fromFlash.filter((x) => x.status >= 400).map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual([]);
    const ops = new Set(fromFlash.map(operationOf));
    for (const op of [
      "listEndpoints",
      "createEndpoint",
      "getEndpoint",
      "updateEndpoint",
      "deleteEndpoint",
      "listEndpointWorkers",
      "listTemplates",
      "createTemplate",
      "getTemplate",
      "updateTemplate",
      "deleteTemplate",
      "listNetworkVolumes",
      "createNetworkVolume",
      "getNetworkVolume",
      "updateNetworkVolume",
      "deleteNetworkVolume",
      "listGpuTypes",
      "listCpuTypes",
      "listDataCenters",
    ]) {
      expect(ops).toContain(op);
    }
  }, 60_000);

  test("a reply missing any field the document requires fails the check (each required field, each reply)", () => {
    expect(fromFlash.length).toBeGreaterThan(20);
    let stripped = 0;
    for (const x of fromFlash) {
      const schema = responseSchemaOf(x);
      if (!schema || !x.responseBody || typeof x.responseBody !== "object") continue;
      expect(checkExchange(x)).toEqual([]);
      for (const field of requiredOf(schema)) {
        const { [field]: _gone, ...body } = x.responseBody as Record<string, unknown>;
        const problems = checkExchange({ ...x, responseBody: body });
        expect(problems.join("\n")).toContain(`required property "${field}"`);
        stripped++;
      }
      // One level down: an endpoint without `workers.max`, a list whose first item lost its id.
      const list = Object.values(x.responseBody).find((v) => Array.isArray(v) && v.length) as
        | Record<string, unknown>[]
        | undefined;
      if (list?.[0] && typeof list[0] === "object" && "id" in list[0]) {
        const key = Object.keys(x.responseBody).find((k) => (x.responseBody as any)[k] === list)!;
        const { id: _id, ...item } = list[0];
        expect(
          checkExchange({ ...x, responseBody: { ...x.responseBody, [key]: [item, ...list.slice(1)] } }),
        ).not.toEqual([]);
      }
    }
    expect(stripped).toBeGreaterThan(50);
    const endpoint = fromFlash.find((x) => operationOf(x) === "createEndpoint")!;
    const body = structuredClone(endpoint.responseBody) as any;
    delete body.workers.max;
    expect(checkExchange({ ...endpoint, responseBody: body }).join("\n")).toContain('required property "max"');
    delete body.requestUrls;
    body.requestUrls = { run: "not a url" };
    expect(checkExchange({ ...endpoint, responseBody: body })).not.toEqual([]);
  });
});

describe("the emulator validates v2 requests as the document says, and answers problem+json", () => {
  const base = {
    name: "v2-rules",
    type: "QUEUE",
    image: "myorg/img:1",
    gpu: { pools: ["ADA_24"] },
    scaling: { type: "QUEUE_DELAY", queueDelay: 4 },
  };
  const errorsOf = async (body: unknown, method = "POST", path = "/serverless") => {
    const r = await raw(method, path, body);
    expect(r.type).toBe("application/problem+json");
    expect(validateAgainst("ErrorResponse", r.body)).toEqual([]);
    return r;
  };

  test("unknown fields, the scaling union, LOAD_BALANCER with QUEUE_DELAY and bad CUDA patterns are 422", async () => {
    const unknown = await errorsOf({ ...base, bogus: 1, gpu: { pools: ["ADA_24"], typo: 2 } });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toEqual({
      title: "Unprocessable Entity",
      status: 422,
      detail: "Request validation failed.",
      errors: ["$.gpu: additional properties 'typo' not allowed", "$: additional properties 'bogus' not allowed"],
    });
    const lb = await errorsOf({ ...base, type: "LOAD_BALANCER" });
    expect(lb.status).toBe(422);
    expect(lb.body.errors).toContain('$.scaling: Instance does not have required property "requestCount".');
    const both = await errorsOf({ ...base, scaling: { type: "QUEUE_DELAY", queueDelay: 4, requestCount: 2 } });
    expect(both.body.errors).toEqual(["$.scaling: additional properties 'requestCount' not allowed"]);
    const cuda = await errorsOf({ ...base, gpu: { pools: ["ADA_24"], minCudaVersion: "12" } });
    expect(cuda.body.errors).toEqual(["$.gpu.minCudaVersion: String does not match pattern."]);
    const cpuCuda = await errorsOf({
      ...base,
      gpu: undefined,
      cpu: [{ id: "cpu3c", vcpuCount: 2, allowedCudaVersions: [] }],
    });
    expect(cpuCuda.status).toBe(422);
    const noImage = await errorsOf({ ...base, image: undefined });
    expect(noImage.body.errors).toEqual(['$: Instance does not have required property "image".']);
    const oneVcpu = await errorsOf({ ...base, gpu: undefined, cpu: [{ id: "cpu3c", vcpuCount: 1 }] });
    expect(oneVcpu.body.errors).toEqual(["$.cpu[0].vcpuCount: 1 is less than 2."]);
    expect((await errorsOf("{not json")).status).toBe(400);
  });

  test("the rules the document states in prose are 400", async () => {
    const neither = await errorsOf({ ...base, gpu: undefined });
    expect(neither.body).toMatchObject({ status: 400, detail: "send exactly one of gpu or cpu" });
    const both = await errorsOf({ ...base, cpu: [{ id: "cpu3c", vcpuCount: 2 }] });
    expect(both.body.detail).toBe("send exactly one of gpu or cpu, not both");
    const flavor = await errorsOf({ ...base, gpu: undefined, cpu: [{ id: "cpu9z", vcpuCount: 2 }] });
    expect(flavor.body.detail).toContain('unknown CPU flavor "cpu9z"');
    const three = await errorsOf({ ...base, gpu: undefined, cpu: [{ id: "cpu3c", vcpuCount: 6 }] });
    expect(three.body.detail).toBe("cpu: 6 vCPUs is not valid for cpu3c (a power of two from 2 to 8)");
    const cuda = await errorsOf({
      ...base,
      gpu: { pools: ["ADA_24"], allowedCudaVersions: ["12.8"], minCudaVersion: "12.1" },
    });
    expect(cuda.body.detail).toContain("mutually exclusive");
    const pool = await errorsOf({ ...base, gpu: { pools: ["NOPE_99"] } });
    expect(pool.body.detail).toContain('unknown pool "NOPE_99"');
    const exclusion = await errorsOf({ ...base, gpu: { pools: ["ADA_24"], excludedTypes: ["NVIDIA L4"] } });
    expect(exclusion.body.detail).toBe('gpu.excludedTypes: "NVIDIA L4" is not a GPU type in ADA_24');
    const idle = await errorsOf({
      ...base,
      scaling: { type: "REQUEST_COUNT", requestCount: 2 },
      workers: { idleTimeout: 5 },
    });
    expect(idle.body.detail).toContain("idleTimeout does not apply");
    const made = await raw("POST", "/serverless", { ...base, gpu: undefined, cpu: [{ id: "cpu3c", vcpuCount: 2 }] });
    expect(made.status).toBe(201);
    expect(made.body.cpu).toEqual([{ id: "cpu3c", vcpuCount: 2, memory: 4 }]);
    const family = await errorsOf({ gpu: { pools: ["ADA_24"] } }, "PATCH", `/serverless/${made.body.id}`);
    expect(family.body.detail).toBe("gpu on a CPU endpoint: the compute family is immutable");
    const shrink = await raw("POST", "/network-volumes", { name: "s", size: 20, dataCenter: "EU-RO-1" });
    const smaller = await errorsOf({ size: 10 }, "PATCH", `/network-volumes/${shrink.body.id}`);
    expect(smaller.body.detail).toContain("cannot be reduced");
    expect((await errorsOf({}, "PATCH", `/network-volumes/${shrink.body.id}`)).status).toBe(422); // minProperties
    expect((await raw("DELETE", `/serverless/${made.body.id}`)).status).toBe(204);
    expect((await raw("DELETE", `/network-volumes/${shrink.body.id}`)).status).toBe(204);
  });

  test("201 on create with requestUrls; 204 on delete; 401, 404 and 405 as problem+json; all conform", async () => {
    const start = exchanges.length;
    const q = await raw("POST", "/serverless", base);
    expect(q.status).toBe(201);
    expect(q.body.requestUrls.runSync).toBe(`${em.endpointBaseUrl}/${q.body.id}/runsync`);
    const lb = await raw("POST", "/serverless", {
      ...base,
      name: "v2-lb",
      type: "LOAD_BALANCER",
      scaling: { type: "REQUEST_COUNT", requestCount: 3 },
    });
    expect(lb.body.requestUrls).toEqual({
      base: em.lbBaseUrl.replace("{id}", lb.body.id),
      health: `${em.lbBaseUrl.replace("{id}", lb.body.id)}/ping`,
    });
    const workers = await raw("GET", `/serverless/${q.body.id}/workers`);
    expect(workers.body).toEqual({
      workers: [],
      summary: { running: 0, idle: 0, initializing: 0, throttled: 0, unhealthy: 0, total: 0 },
      endpointVersion: expect.any(Number),
    });
    expect((await raw("DELETE", `/serverless/${q.body.id}`)).status).toBe(204);
    expect((await raw("DELETE", `/serverless/${lb.body.id}`)).status).toBe(204);
    const missing = await raw("GET", `/serverless/${q.body.id}`);
    expect(missing).toMatchObject({ status: 404, type: "application/problem+json" });
    expect(missing.body.title).toBe("Not Found");
    const put = await fetch(`${em.apiBaseUrl}/v2/serverless`, {
      method: "PUT",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
    expect(await put.json()).toEqual({
      title: "Method Not Allowed",
      status: 405,
      detail: "PUT is not supported for /v2/serverless",
    });
    expect((await raw("GET", "/catalog/nothing")).status).toBe(404);
    const denied = await raw("GET", "/serverless", undefined, "rpa_wrong");
    expect(denied).toMatchObject({ status: 401, type: "application/problem+json" });
    expect(validateAgainst("ErrorResponse", denied.body)).toEqual([]);
    const problems = exchanges.slice(start).flatMap(checkExchange);
    expect(problems).toEqual([]);
  });

  test("a spent quota is 429 with Retry-After, and flash's client waits as the RateLimit header says", async () => {
    const small = startEmulator({ apiKey: KEY, restPerMinute: 2, restObserver: (x) => exchanges.push(x) });
    try {
      const start = exchanges.length;
      const http = new RunpodHttp(KEY, { attempts: 1 });
      const client = new RunpodRestV2(http, small.apiBaseUrl, 0); // may not wait: fails at once
      await client.listEndpoints();
      await client.listEndpoints(); // r=0 now: the next request would have to wait for the window
      const err = await client.listEndpoints().catch((e: Error) => e);
      expect((err as Error).message).toMatch(/^Runpod's rate limit resets in \d+ s$/);
      const res = await fetch(`${small.apiBaseUrl}/v2/serverless`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(res.headers.get("ratelimit")).toMatch(/^"minute";r=0;t=\d+$/);
      expect(await res.json()).toEqual({
        title: "Too Many Requests",
        status: 429,
        detail: "rate limit exceeded for the minute window",
      });
      expect(exchanges.slice(start).flatMap(checkExchange)).toEqual([]);
    } finally {
      await small.stop();
    }
  });

  test("a refusal reaches the user in Runpod's words (title, detail, each error)", async () => {
    const err = await rest()
      .createEndpoint({ ...(base as any), scaling: { type: "QUEUE_DELAY", queueDelay: 0.1 } })
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(RestV2Error);
    expect((err as RestV2Error).message).toBe(
      "Runpod POST /v2/serverless answered 422 Unprocessable Entity: Request validation failed.; " +
        "$.scaling.queueDelay: 0.1 is less than 0.5.",
    );
  });

  test("with GraphQL retired, only the Flash app plane answers GraphQL", async () => {
    const gql = async (query: string) =>
      fetch(`${em.apiBaseUrl}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ query }),
      });
    const retired = await gql("query { myself { endpoints { id } } }");
    expect(retired.status).toBe(410);
    expect(((await retired.json()) as any).errors[0].message).toContain("GraphQL API is retired (myself.endpoints)");
    const apps = await gql("query { myself { flashApps { id name } } }");
    expect(apps.status).toBe(200);
    expect(await apps.json()).toEqual({ data: { myself: { flashApps: [] } } });
  });
});
