/**
 * The deployed mothership's calls to a load-balanced endpoint wait out a cold start as `--target runpod` does:
 * the load balancer's "no workers available" answers (no worker saw the request) are sent again; the route's own
 * answer comes back as the call's result. Real HTTP: the environment and endpoint live on an emulator, the load
 * balancer is a server that is cold for its first two requests.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { DeployedTarget } from "../../core/deploy/deployed-target";
import { FlashAppClient } from "../../core/deploy/flash-app-client";
import type { Manifest } from "../../core/deploy/manifest";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import type { RemoteFunctionRef } from "../../core/remote/protocol";
import type { FunctionRequest } from "../../core/remote/target";
import { RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";
import { LB_NO_WORKERS_TEXT } from "../../core/runpod/platform";

const KEY = "rpa_deployed_target_test_0123456789";
let em: Emulator;
let balancer: ReturnType<typeof Bun.serve>;
const seen: { path: string; body: string; args: string | null }[] = [];

beforeAll(() => {
  em = startEmulator({ apiKey: KEY });
  balancer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      seen.push({ path: new URL(req.url).pathname, body: await req.text(), args: req.headers.get("x-flash-args") });
      if (seen.length <= 2) return new Response(LB_NO_WORKERS_TEXT, { status: 503 });
      return Response.json({ ok: true, attempt: seen.length });
    },
  });
});

afterAll(async () => {
  balancer?.stop(true);
  await em?.stop();
});

test("a deployed load-balanced call waits out the load balancer's cold start", async () => {
  const gql = new RunpodGraphql(new RunpodHttp(KEY), em.apiBaseUrl);
  const apps = new FlashAppClient(gql);
  const app = await apps.createApp("cold-start-app");
  const env = await apps.createEnvironment(app.id, "production");
  const template = await gql.saveTemplate({
    name: "lbres__test",
    imageName: "oven/bun:1",
    containerDiskInGb: 10,
    volumeInGb: 0,
    dockerArgs: "",
    env: [],
    isServerless: true,
  });
  const endpoint = await gql.saveEndpoint({
    name: "lbres",
    templateId: template.id,
    type: "LB",
    instanceIds: ["cpu3c-1-2"],
    workersMin: 0,
    workersMax: 0,
    idleTimeout: 5,
    scalerType: "REQUEST_COUNT",
    scalerValue: 4,
    executionTimeoutMs: 0,
    workersPFBTarget: 0,
    flashEnvironmentId: env.id,
  });
  const appDir = "/app";
  const manifest = {
    resources: {
      lbres: {
        is_load_balanced: true,
        endpoint: { name: "lbres" },
        functions: [{ module: "m.ts", name: "f", method: "POST", path: "/f" }],
      },
    },
  } as unknown as Manifest;
  const target = new DeployedTarget({
    apiKey: KEY,
    urls: {
      apiBaseUrl: em.apiBaseUrl,
      endpointBaseUrl: em.endpointBaseUrl,
      lbBaseUrl: `http://127.0.0.1:${balancer.port}/{id}`,
    },
    environmentId: env.id,
    environmentName: "production",
    appDir,
    manifest,
    wait: { lbRetryDelayMs: 10 },
  });
  const fn = { config: { name: "lbres" }, module: join(appDir, "m.ts"), name: "f" } as unknown as RemoteFunctionRef;
  const res = await target.call(fn, { args: [{ x: 1 }] } as unknown as FunctionRequest);
  expect(res).toEqual({ success: true, result: { ok: true, attempt: 3 } });
  expect(seen.length).toBe(3);
  for (const s of seen)
    expect(s).toEqual({ path: `/${endpoint.id}/f`, body: JSON.stringify({ args: [{ x: 1 }] }), args: "1" });
});

test("a deployed call to a custom image (ServerlessEndpoint) sends the raw input its handler reads; empty input is refused", async () => {
  const worker = resolve(import.meta.dir, "../fixtures/runpod/protocol-worker.ts");
  const own = startEmulator({ apiKey: KEY, workers: { images: { "me/handler:1": [process.execPath, worker] } } });
  try {
    const gql = new RunpodGraphql(new RunpodHttp(KEY), own.apiBaseUrl);
    const apps = new FlashAppClient(gql);
    const app = await apps.createApp("custom-image-app");
    const env = await apps.createEnvironment(app.id, "production");
    const template = await gql.saveTemplate({
      name: "own__test",
      imageName: "me/handler:1",
      containerDiskInGb: 10,
      volumeInGb: 0,
      dockerArgs: "",
      env: [],
      isServerless: true,
    });
    const endpoint = await gql.saveEndpoint({
      name: "own",
      templateId: template.id,
      type: "QB",
      instanceIds: ["cpu3c-1-2"],
      workersMin: 0,
      workersMax: 1,
      idleTimeout: 5,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      executionTimeoutMs: 0,
      workersPFBTarget: 0,
      flashEnvironmentId: env.id,
    });
    const manifest = {
      resources: {
        own: {
          resource_type: "CpuServerlessEndpoint",
          is_load_balanced: false,
          endpoint: { name: "own" },
          functions: [{ module: "m.ts", name: "handler" }],
        },
      },
    } as unknown as Manifest;
    const target = new DeployedTarget({
      apiKey: KEY,
      urls: { apiBaseUrl: own.apiBaseUrl, endpointBaseUrl: own.endpointBaseUrl, lbBaseUrl: own.lbBaseUrl },
      environmentId: env.id,
      environmentName: "production",
      appDir: "/app",
      manifest,
      endpointIds: { own: endpoint.id },
    });
    const fn = { config: { name: "own" }, module: "/app/m.ts", name: "handler" } as unknown as RemoteFunctionRef;
    const res = await target.call(fn, { args: [{ mode: "echo", value: 42 }] } as unknown as FunctionRequest);
    expect(res.success).toBe(true);
    expect((res.result as { echo: number }).echo).toBe(42);
    const jobs = own.store.jobs.size;
    const empty = await target.call(fn, { args: [{}] } as unknown as FunctionRequest);
    expect(empty.error).toMatchObject({ name: "InputError", status: 400 });
    expect(own.store.jobs.size).toBe(jobs);
  } finally {
    await own.stop();
  }
}, 30_000);
