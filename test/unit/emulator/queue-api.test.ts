/**
 * The emulator's queue API (run, runsync, status, stream, cancel, retry, purge-queue, health) and its key check, on
 * a fake supervisor: the test plays the worker through the worker routes with `app.handle()`; no socket, no process.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { fakeEmulator } from "./fake-supervisor";

const KEY = "rpa_unit_queue_api_key_0000000000";
let emu: ReturnType<typeof fakeEmulator>;
let ep: string;
let workerKey: string;

beforeAll(() => {
  emu = fakeEmulator(KEY);
});
beforeEach(() => {
  const endpoint = emu.endpoint();
  ep = endpoint.id;
  workerKey = endpoint.aiKey;
  emu.ctx.supervisor.workers.clear();
});
afterAll(() => emu.close());

/** A client call; `auth` is the authorization header (the user's key as a Bearer token by default). */
async function call(
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = `Bearer ${KEY}`,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth !== null) headers.authorization = auth;
  const res = await emu.app.handle(
    new Request(`http://emulator.test${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The worker side: take the next job, or post its result. */
const take = (wid = "w1") => call("GET", `/v2/${ep}/job-take/${wid}`, undefined, workerKey);
const done = (jobId: string, result: unknown, wid = "w1") =>
  call("POST", `/v2/${ep}/job-done/${wid}/${jobId}?isStream=false`, result, workerKey);

describe("auth", () => {
  test("no key or a wrong key is 401 and the key is not echoed; Bearer, bare and ?api_key= keys pass", async () => {
    for (const auth of [null, "Bearer rpa_wrong", "rpa_wrong"]) {
      const res = await call("POST", `/v2/${ep}/run`, { input: 1 }, auth);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: "Unauthorized: missing or invalid API key" });
    }
    expect((await call("POST", `/v2/${ep}/run`, { input: 1 }, KEY)).status).toBe(200);
    expect((await call("GET", `/v2/${ep}/health?api_key=${KEY}`, undefined, null)).status).toBe(200);
    // The endpoint's worker key is for worker routes only.
    expect((await call("POST", `/v2/${ep}/run`, { input: 1 }, workerKey)).status).toBe(401);
  });
});

describe("run and status", () => {
  test("run answers IN_QUEUE with the job id; status follows the job to COMPLETED with its timings", async () => {
    const run = await call("POST", `/v2/${ep}/run`, { input: { x: 1 } });
    expect(run.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}-e1$/), status: "IN_QUEUE" });
    expect((await call("GET", `/v2/${ep}/status/${run.body.id}`)).body).toEqual({
      id: run.body.id,
      status: "IN_QUEUE",
    });
    await take();
    await done(run.body.id, { output: { y: 2 } });
    const status = await call("POST", `/v2/${ep}/status/${run.body.id}`);
    expect(status.body).toMatchObject({ id: run.body.id, status: "COMPLETED", output: { y: 2 }, workerId: "w1" });
    expect(status.body.delayTime).toBeGreaterThanOrEqual(0);
    expect(status.body.executionTime).toBeGreaterThanOrEqual(0);
    expect(emu.ctx.supervisor.rescaled).toContain(ep); // a submission asks the supervisor for workers
  });

  test("a body without input, a policy of the wrong type or malformed JSON is 400 with the reason", async () => {
    const noInput = await call("POST", `/v2/${ep}/run`, { webhook: "http://hook.test" });
    expect(noInput).toEqual({ status: 400, body: { error: "input is required" } });
    const badPolicy = await call("POST", `/v2/${ep}/run`, { input: 1, policy: { executionTimeout: "soon" } });
    expect(badPolicy).toEqual({
      status: 400,
      body: { error: "malformed request: body.policy.executionTimeout: Expected number" },
    });
    expect(await call("POST", `/v2/${ep}/run`, "{")).toEqual({ status: 400, body: { error: "malformed JSON body" } });
    expect(emu.ctx.store.jobCounts(ep).inQueue).toBe(0);
  });

  test("a job with empty or null input is accepted but never handed to a worker (it stays IN_QUEUE)", async () => {
    const empty = await call("POST", `/v2/${ep}/run`, { input: {} });
    const nil = await call("POST", `/v2/${ep}/run`, { input: null });
    expect([empty.body.status, nil.body.status]).toEqual(["IN_QUEUE", "IN_QUEUE"]);
    expect((await take()).status).toBe(204);
    for (const id of [empty.body.id, nil.body.id])
      expect((await call("GET", `/v2/${ep}/status/${id}`)).body).toEqual({ id, status: "IN_QUEUE" });
  });

  test("unknown endpoint and unknown job are 404; queue routes on an LB endpoint are 400", async () => {
    expect(await call("GET", "/v2/nope/status/x")).toEqual({ status: 404, body: { error: "endpoint nope not found" } });
    expect(await call("GET", `/v2/${ep}/status/x`)).toEqual({ status: 404, body: { error: "job x not found" } });
    const lb = emu.endpoint({ type: "LB" });
    const res = await call("POST", `/v2/${lb.id}/run`, { input: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("not allowed for LB endpoint");
  });
});

describe("runsync", () => {
  test("waits for the job to finish and returns it", async () => {
    const sync = call("POST", `/v2/${ep}/runsync?wait=60000`, { input: "now" });
    let job: any;
    while (!job) {
      job = (await take()).body;
    }
    expect(job.input).toBe("now");
    await done(job.id, { output: "done" });
    expect((await sync).body).toMatchObject({ id: job.id, status: "COMPLETED", output: "done" });
    expect(job.id).toStartWith("sync-");
  });

  test("returns the job unfinished when its wait runs out; status-sync waits for the rest", async () => {
    const sync = await call("POST", `/v2/${ep}/runsync?wait=0`, { input: 1 });
    expect(sync.body).toEqual({ id: sync.body.id, status: "IN_QUEUE" });
    const later = call("GET", `/v2/${ep}/status-sync/${sync.body.id}?wait=60000`);
    await take();
    await done(sync.body.id, { output: 2 });
    expect((await later).body).toMatchObject({ status: "COMPLETED", output: 2 });
  });
});

describe("cancel, retry, purge and health", () => {
  test("cancel of a queued job: CANCELLED, and no worker gets it", async () => {
    const { body } = await call("POST", `/v2/${ep}/run`, { input: 1 });
    expect((await call("POST", `/v2/${ep}/cancel/${body.id}`)).body).toEqual({ id: body.id, status: "CANCELLED" });
    expect((await take()).status).toBe(204);
  });

  test("cancel of a running job asks the supervisor to stop it on its worker", async () => {
    const { body } = await call("POST", `/v2/${ep}/run`, { input: 1 });
    await take("w9");
    expect((await call("POST", `/v2/${ep}/cancel/${body.id}`)).body.status).toBe("CANCELLED");
    expect(emu.ctx.supervisor.stopRequests.at(-1)).toMatchObject({ workerId: "w9", jobId: body.id, timedOut: false });
    // The worker's late result does not revive it.
    expect((await done(body.id, { output: 1 }, "w9")).status).toBe(404);
    expect((await call("GET", `/v2/${ep}/status/${body.id}`)).body.status).toBe("CANCELLED");
  });

  test("retry puts a FAILED job back in the queue under the same id; other jobs are 400", async () => {
    const { body } = await call("POST", `/v2/${ep}/run`, { input: 1 });
    const early = await call("POST", `/v2/${ep}/retry/${body.id}`);
    expect(early).toEqual({
      status: 400,
      body: { error: `job ${body.id} is IN_QUEUE; only FAILED or TIMED_OUT jobs can be retried` },
    });
    await take();
    await done(body.id, { error: "boom" });
    expect((await call("POST", `/v2/${ep}/retry/${body.id}`)).body).toEqual({ id: body.id, status: "IN_QUEUE" });
    expect((await take()).body.id).toBe(body.id);
  });

  test("purge-queue removes the queued jobs and leaves the running one", async () => {
    const running = (await call("POST", `/v2/${ep}/run`, { input: 0 })).body.id;
    await take();
    for (const n of [1, 2, 3]) await call("POST", `/v2/${ep}/run`, { input: n });
    expect((await call("POST", `/v2/${ep}/purge-queue`)).body).toEqual({ removed: 3, status: "completed" });
    expect((await call("GET", `/v2/${ep}/status/${running}`)).body.status).toBe("IN_PROGRESS");
    expect((await take("w2")).status).toBe(204);
  });

  test("health counts jobs by state and the supervisor's workers", async () => {
    const first = (await call("POST", `/v2/${ep}/run`, { input: 0 })).body.id;
    await take();
    await done(first, { output: 1 });
    await call("POST", `/v2/${ep}/run`, { input: 1 });
    await take("w2");
    await call("POST", `/v2/${ep}/run`, { input: 2 });
    const health = await call("GET", `/v2/${ep}/health`);
    expect(health.body).toEqual({
      jobs: { completed: 1, failed: 0, inProgress: 1, inQueue: 1, retried: 0 },
      workers: { idle: 1, initializing: 0, ready: 0, running: 1, throttled: 0, unhealthy: 0 },
    });
  });
});
