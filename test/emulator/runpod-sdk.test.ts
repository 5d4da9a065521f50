/**
 * Fidelity of the Runpod emulator: driven by the official `runpod-sdk` npm client (run, runSync, status,
 * stream, cancel, health, purgeQueue) and by raw HTTP for what the SDK lacks (retry, status-sync, GraphQL,
 * worker routes), with workers that speak the platform's worker protocol the way runpod-python does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import runpodSdk from "runpod-sdk";
import { startEmulator, type Emulator } from "../../core/emulator/server";
import { until } from "../fixtures/runpod/harness";

const KEY = "rpa_emulator_fidelity_key_0000000";
let em: Emulator;
let sdk: ReturnType<typeof runpodSdk>;
const quiet = console.log;

async function gql(
  query: string,
  variables?: Record<string, unknown>,
  auth: Record<string, string> = { authorization: `Bearer ${KEY}` },
  search = "",
) {
  const res = await fetch(`${em.apiBaseUrl}/graphql${search}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function makeEndpoint(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { body } = await gql("mutation($input: EndpointInput!) { saveEndpoint(input: $input) { id name } }", {
    input: {
      name,
      template: { name: `${name}-tpl`, imageName: "sdk-style:1", containerDiskInGb: 5, env: [] },
      workersMax: 2,
      idleTimeout: 1,
      ...extra,
    },
  });
  expect(body.errors).toBeUndefined();
  return body.data.saveEndpoint.id;
}

beforeAll(() => {
  console.log = () => {}; // runpod-sdk's runSync prints every poll
  em = startEmulator({
    apiKey: KEY,
    takeHoldMs: 1000,
    // The platform's clocks, shortened: timeouts and TTLs are checked every 20 ms, a runsync may wait as little as
    // 100 ms, the scaler ticks every 25 ms and an endpoint's idleTimeout counts in tenths of a second.
    sweepIntervalMs: 20,
    minSyncWaitMs: 100,
    workers: {
      images: { "sdk-style:1": [process.execPath, resolve(import.meta.dir, "../fixtures/runpod/sdk-style-worker.ts")] },
      tickMs: 25,
      idleSecondMs: 100,
    },
  });
  sdk = runpodSdk(KEY, { baseUrl: em.endpointBaseUrl });
});

afterAll(async () => {
  console.log = quiet;
  await em.stop();
});

describe("runpod-sdk against the emulator", () => {
  test("run, then status until COMPLETED, with the job fields clients rely on", async () => {
    const ep = sdk.endpoint(await makeEndpoint("sdk-run"))!;
    const started = await ep.run({ input: { mode: "echo", value: { hi: 1 } } });
    expect(started.status).toBe("IN_QUEUE");
    expect(started.id).toMatch(/^[0-9a-f-]{36}-e1$/);
    let job: any;
    for (let i = 0; i < 200; i++) {
      job = await ep.status(started.id);
      if (job.completed) break;
      await Bun.sleep(25);
    }
    expect(job).toMatchObject({
      id: started.id,
      status: "COMPLETED",
      output: { hi: 1 },
      started: true,
      completed: true,
      succeeded: true,
    });
    expect(typeof job.delayTime).toBe("number");
    expect(typeof job.executionTime).toBe("number");
    expect(job.workerId).toMatch(/^[a-z0-9]{14}$/);
  }, 15_000);

  test("runSync returns the finished job (runsync?wait= then status-sync)", async () => {
    const ep = sdk.endpoint(await makeEndpoint("sdk-sync"))!;
    const job: any = await ep.runSync({ input: { mode: "echo", value: [1, 2, 3] } }, 20_000);
    expect(job).toMatchObject({ status: "COMPLETED", output: [1, 2, 3], completed: true, succeeded: true });
    expect(job.id).toStartWith("sync-");
    const failed: any = await ep.runSync({ input: { mode: "fail", value: "bad input" } }, 20_000);
    expect(failed.status).toBe("FAILED");
    expect(JSON.parse(failed.error).error_message).toBe("bad input");
    expect(failed.succeeded).toBe(false);
  }, 20_000);

  test("stream yields each chunk once, in order, and stops at the terminal status", async () => {
    const ep = sdk.endpoint(await makeEndpoint("sdk-stream"))!;
    const { id } = await ep.run({ input: { mode: "stream", value: ["a", "b", "c"] } });
    const seen: unknown[] = [];
    for await (const chunk of ep.stream(id)) seen.push(chunk);
    expect(seen).toEqual([{ output: "a" }, { output: "b" }, { output: "c" }]);
  }, 15_000);

  test("cancel stops a running job; health counts jobs and all six worker states; purgeQueue drops queued jobs", async () => {
    const id = await makeEndpoint("sdk-ops", { workersMax: 1 });
    const ep = sdk.endpoint(id)!;
    const long = await ep.run({ input: { mode: "sleep", value: 5000 } });
    await until(() => em.store.jobs.get(long.id)?.status === "IN_PROGRESS", 10_000, "the long job to start");
    const queued = await Promise.all([1, 2, 3].map(() => ep.run({ input: { mode: "echo", value: 1 } })));
    const health: any = await ep.health();
    expect(Object.keys(health.jobs).sort()).toEqual(["completed", "failed", "inProgress", "inQueue", "retried"]);
    expect(Object.keys(health.workers).sort()).toEqual([
      "idle",
      "initializing",
      "ready",
      "running",
      "throttled",
      "unhealthy",
    ]);
    expect(health.jobs).toMatchObject({ inProgress: 1, inQueue: 3 });
    expect(health.workers.running).toBe(1);
    expect(await ep.purgeQueue()).toEqual({ removed: 3, status: "completed" });
    for (const q of queued) {
      // xior rejects non-2xx replies; the purged jobs are gone (404).
      const gone: any = await ep.status(q.id).catch((e: any) => ({ status: e?.response?.status }));
      expect(gone.status).toBe(404);
    }
    const cancelled: any = await ep.cancel(long.id);
    expect(cancelled).toEqual({ id: long.id, status: "CANCELLED" });
    expect(((await ep.status(long.id)) as any).status).toBe("CANCELLED");
  }, 20_000);

  test("a bad key gets 401 and the key is not echoed", async () => {
    const id = await makeEndpoint("sdk-401");
    const bad = runpodSdk("rpa_not_the_key_1111111111", { baseUrl: em.endpointBaseUrl }).endpoint(id)!;
    const res: any = await bad.health().catch((e: any) => ({ status: e?.response?.status, data: e?.response?.data }));
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.data)).not.toContain("rpa_not_the_key");
  });
});

describe("REST details beyond the SDK", () => {
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${em.endpointBaseUrl}${path}`, {
      ...init,
      headers: { authorization: KEY, "content-type": "application/json", ...(init.headers as Record<string, string>) },
    });

  test("a bare key works; unknown endpoint and job are 404; a body without input is 400", async () => {
    const id = await makeEndpoint("rest-404");
    expect((await call(`/${id}/health`)).status).toBe(200);
    expect((await call(`/nope/health`)).status).toBe(404);
    expect((await call(`/${id}/status/unknown-job`)).status).toBe(404);
    const noInput = await call(`/${id}/run`, { method: "POST", body: JSON.stringify({ webhook: "x" }) });
    expect(noInput.status).toBe(400);
    expect((await noInput.json()).error).toContain("input");
  });

  test("runsync with a short wait returns the job unfinished; status-sync waits; status works with GET and POST", async () => {
    const id = await makeEndpoint("rest-wait");
    const first = await (
      await call(`/${id}/runsync?wait=100`, {
        method: "POST",
        body: JSON.stringify({ input: { mode: "sleep", value: 400 } }),
      })
    ).json();
    expect(["IN_QUEUE", "IN_PROGRESS"]).toContain(first.status);
    const finished = await (await call(`/${id}/status-sync/${first.id}?wait=10000`)).json();
    expect(finished).toMatchObject({ id: first.id, status: "COMPLETED", output: { slept: 400 } });
    expect((await (await call(`/${id}/status/${first.id}`, { method: "POST" })).json()).status).toBe("COMPLETED");
  }, 15_000);

  test("progress updates show on status while IN_PROGRESS", async () => {
    const id = await makeEndpoint("rest-progress");
    const { id: jobId } = await (
      await call(`/${id}/run`, { method: "POST", body: JSON.stringify({ input: { mode: "progress", value: "done" } }) })
    ).json();
    await until(() => (em.store.jobs.get(jobId)?.output as any)?.progress === "1/2", 10_000, "progress");
    const mid = await (await call(`/${id}/status/${jobId}`)).json();
    expect(mid).toMatchObject({ status: "IN_PROGRESS", output: { progress: "1/2" } });
    const end = await (await call(`/${id}/status-sync/${jobId}?wait=5000`)).json();
    expect(end).toMatchObject({ status: "COMPLETED", output: "done" });
  }, 15_000);

  test("retry puts a FAILED job back in the queue under the same id", async () => {
    const id = await makeEndpoint("rest-retry");
    const failed = await (
      await call(`/${id}/runsync?wait=10000`, {
        method: "POST",
        body: JSON.stringify({ input: { mode: "fail", value: "nope" } }),
      })
    ).json();
    expect(failed.status).toBe("FAILED");
    expect(await (await call(`/${id}/retry/${failed.id}`, { method: "POST" })).json()).toEqual({
      id: failed.id,
      status: "IN_QUEUE",
    });
    const again = await (await call(`/${id}/status-sync/${failed.id}?wait=10000`)).json();
    expect(again).toMatchObject({ id: failed.id, status: "FAILED", retries: 1 });
    const ok = await (
      await call(`/${id}/runsync?wait=10000`, {
        method: "POST",
        body: JSON.stringify({ input: { mode: "echo", value: 1 } }),
      })
    ).json();
    expect((await call(`/${id}/retry/${ok.id}`, { method: "POST" })).status).toBe(400);
  }, 15_000);

  test("policy.executionTimeout ends a job as TIMED_OUT and stops its worker; policy.ttl expires a job (404)", async () => {
    const id = await makeEndpoint("rest-timeout");
    const slow = await (
      await call(`/${id}/run`, {
        method: "POST",
        body: JSON.stringify({ input: { mode: "sleep", value: 5000 }, policy: { executionTimeout: 300 } }),
      })
    ).json();
    await until(() => em.store.jobs.get(slow.id)?.status === "IN_PROGRESS", 10_000, "the job to start");
    const worker = em.store.jobs.get(slow.id)!.workerId!;
    const timedOut = await (await call(`/${id}/status-sync/${slow.id}?wait=5000`)).json();
    expect(timedOut).toMatchObject({ id: slow.id, status: "TIMED_OUT" });
    expect(timedOut.error).toContain("execution timeout");
    await until(() => !em.supervisor.workers.has(worker), 5000, "the worker to be stopped");
    const brief = await (
      await call(`/${id}/run`, {
        method: "POST",
        body: JSON.stringify({ input: { mode: "sleep", value: 3000 }, policy: { ttl: 300 } }),
      })
    ).json();
    let status = 200;
    await until(
      () => {
        void call(`/${id}/status/${brief.id}`).then((r) => (status = r.status));
        return status === 404;
      },
      5000,
      "the job to expire",
    );
  }, 20_000);

  test("a webhook receives the finished job", async () => {
    const received: any[] = [];
    const hook = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => (received.push(await req.json()), new Response("ok")),
    });
    try {
      const id = await makeEndpoint("rest-webhook");
      const { id: jobId } = await (
        await call(`/${id}/run`, {
          method: "POST",
          body: JSON.stringify({ input: { mode: "echo", value: 42 }, webhook: `http://127.0.0.1:${hook.port}/done` }),
        })
      ).json();
      await until(() => received.length === 1, 10_000, "the webhook");
      expect(received[0]).toMatchObject({ id: jobId, status: "COMPLETED", output: 42 });
    } finally {
      hook.stop(true);
    }
  }, 15_000);

  test("injected 429 and 503 answer matching requests, then are spent", async () => {
    const id = await makeEndpoint("rest-faults");
    em.fail({ status: 429, times: 1, path: "/health" });
    em.fail({ status: 503, times: 1, path: "/health" });
    expect((await call(`/${id}/health`)).status).toBe(429);
    expect((await call(`/${id}/health`)).status).toBe(503);
    expect((await call(`/${id}/health`)).status).toBe(200);
  });
});

describe("workers and the control plane", () => {
  test("workersMin keeps workers warm; idle ones stop after idleTimeout; workersMax caps scale-up", async () => {
    const id = await makeEndpoint("scale", { workersMin: 1, workersMax: 2, idleTimeout: 1 });
    await until(() => em.supervisor.alive(id).length === 1, 5000, "one warm worker");
    const jobs = await Promise.all([1, 2, 3, 4].map(() => call(`/run`, id, { mode: "sleep", value: 400 })));
    await until(() => em.supervisor.alive(id).length === 2, 5000, "scale-up to workersMax");
    await Bun.sleep(200);
    expect(em.supervisor.alive(id).length).toBe(2);
    for (const j of jobs) await until(() => em.store.jobs.get(j.id)?.status === "COMPLETED", 10_000, "jobs to finish");
    await until(() => em.supervisor.alive(id).length === 1, 5000, "scale-down to workersMin after idleTimeout");
  }, 25_000);

  test("worker routes need the endpoint's worker key; workers never get the user's key", async () => {
    const id = await makeEndpoint("keys", { workersMin: 1 });
    await until(() => em.supervisor.alive(id).length === 1, 5000, "a worker");
    const w = em.supervisor.alive(id)[0]!;
    expect(
      (await fetch(`${em.endpointBaseUrl}/${id}/job-take/${w.id}`, { headers: { authorization: "wrong" } })).status,
    ).toBe(401);
    const env = await Bun.file(`/proc/${w.proc.pid}/environ`)
      .text()
      .catch(() => "");
    if (env) {
      expect(env).not.toContain(KEY);
      expect(env).toContain(`RUNPOD_POD_ID=${w.id}`);
      expect(env).toContain(`RUNPOD_WEBHOOK_GET_JOB=${em.endpointBaseUrl}/${id}/job-take/$ID?gpu=`);
    }
  });

  test("GraphQL: ?api_key= auth, 401 without it, errors for bad input, endpoint(id), deleteEndpoint", async () => {
    const id = await makeEndpoint("gql");
    const q = `query($id: String!) { myself { endpoint(id: $id) { id name type workersMax template { imageName } } } }`;
    const byQuery = await gql(q, { id }, {}, `?api_key=${KEY}`);
    expect(byQuery.body.data.myself.endpoint).toEqual({
      id,
      name: "gql",
      type: "QB",
      workersMax: 2,
      template: { imageName: "sdk-style:1" },
    });
    const denied = await gql(q, { id }, { authorization: "Bearer nope" });
    expect(denied.status).toBe(401);
    expect(JSON.stringify(denied.body)).not.toContain(KEY);
    const both = await gql("mutation($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
      input: { name: "x", templateId: "t", template: { imageName: "i" } },
    });
    expect(both.body.errors[0].message).toContain("mutually exclusive");
    const refused = await gql("mutation($id: String!) { deleteEndpoint(id: $id) }", { id });
    expect(refused.status).toBe(200);
    expect(refused.body.errors[0].message).toContain("set both to 0 before deleting");
    const zero = await gql("mutation($input: EndpointInput!) { saveEndpoint(input: $input) { id workersMax } }", {
      input: { id, name: "gql", templateId: em.control.endpoints.get(id)!.templateId, workersMin: 0, workersMax: 0 },
    });
    expect(zero.body.data.saveEndpoint).toEqual({ id, workersMax: 0 });
    const del = await gql("mutation($id: String!) { deleteEndpoint(id: $id) }", { id });
    expect(del.body).toEqual({ data: { deleteEndpoint: null } });
    expect((await gql(q, { id })).body.data.myself.endpoint).toBeNull();
  });
});

async function call(path: string, endpointId: string, input: unknown): Promise<{ id: string }> {
  const res = await fetch(`${em.endpointBaseUrl}/${endpointId}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ input }),
  });
  return (await res.json()) as { id: string };
}
