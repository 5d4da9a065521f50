/**
 * The emulator's worker routes (job-take, job-take-batch, job-done, job-stream, ping, job-stop) on a fake
 * supervisor: the test plays the worker with `app.handle()`; no socket, no process.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { fakeEmulator } from "./fake-supervisor";

const KEY = "rpa_unit_worker_api_key_000000000";
let emu: ReturnType<typeof fakeEmulator>;
let ep: string;
let workerKey: string;

beforeAll(() => {
  emu = fakeEmulator(KEY); // long-polls answer at once when nothing waits
});
beforeEach(() => {
  const endpoint = emu.endpoint();
  ep = endpoint.id;
  workerKey = endpoint.aiKey;
  emu.ctx.supervisor.workers.clear();
});
afterAll(() => emu.close());

/** A worker route call, with the endpoint's worker key unless another is given. */
function worker(path: string, body?: string, key: string | null = workerKey) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (key !== null) headers.authorization = key;
  return emu.app.handle(
    new Request(`http://emulator.test/v2/${ep}/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body,
    }),
  );
}

/** A client call with the user's key. */
async function client(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await emu.app.handle(
    new Request(`http://emulator.test/v2/${ep}/${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Submit a job and have worker `wid` take it. */
async function running(wid = "w1", input: unknown = { n: 1 }): Promise<string> {
  const { body } = await client("POST", "run", { input });
  const taken = await worker(`job-take/${wid}?gpu=cpu&job_in_progress=0`);
  expect(taken.status).toBe(200);
  return body.id;
}

describe("job-take", () => {
  test("no job waiting: 204 with an empty body; the worker is attached to the endpoint as idle", async () => {
    const res = await worker("job-take/w1?gpu=cpu&job_in_progress=0");
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(emu.ctx.supervisor.workers.get("w1")).toMatchObject({ endpointId: ep, state: "idle" });
  });

  test("a queued job goes to the worker with its input and policy, and is IN_PROGRESS on it", async () => {
    const { body } = await client("POST", "run", { input: { a: 1 }, policy: { executionTimeout: 5000 } });
    const res = await worker("job-take/w1?gpu=cpu&job_in_progress=0");
    expect(await res.json()).toEqual({ id: body.id, input: { a: 1 }, policy: { executionTimeout: 5000 } });
    expect((await client("GET", `status/${body.id}`)).body).toMatchObject({ status: "IN_PROGRESS", workerId: "w1" });
    expect(emu.ctx.supervisor.workers.get("w1")!.state).toBe("running");
  });

  test("a held job-take gets a job submitted while it waits", async () => {
    const held = fakeEmulator(KEY, { takeHoldMs: 10_000 });
    try {
      const endpoint = held.endpoint();
      const url = `http://emulator.test/v2/${endpoint.id}`;
      const take = held.app.handle(new Request(`${url}/job-take/w1`, { headers: { authorization: endpoint.aiKey } }));
      const run = await held.app.handle(
        new Request(`${url}/run`, {
          method: "POST",
          headers: { authorization: KEY, "content-type": "application/json" },
          body: JSON.stringify({ input: "late" }),
        }),
      );
      const { id } = (await run.json()) as { id: string };
      expect(await (await take).json()).toEqual({ id, input: "late" });
    } finally {
      held.close();
    }
  });

  test("job-take-batch hands out up to batch_size queued jobs", async () => {
    const ids = [];
    for (const n of [1, 2, 3]) ids.push((await client("POST", "run", { input: n })).body.id);
    const res = await worker("job-take-batch/w1?batch_size=2");
    expect(((await res.json()) as { id: string }[]).map((j) => j.id)).toEqual(ids.slice(0, 2));
  });

  test("the user's key or the endpoint's worker key; anything else is 401", async () => {
    expect((await worker("job-take/w1", undefined, null)).status).toBe(401);
    expect((await worker("job-take/w1", undefined, "rpa_wrong")).status).toBe(401);
    expect((await worker("job-take/w1", undefined, KEY)).status).toBe(204);
  });

  test("an unknown endpoint is 404; a worker id of another endpoint is 400 with the reason", async () => {
    const other = emu.endpoint();
    await client("POST", "run", { input: 1 });
    expect((await worker("job-take/w1")).status).toBe(200);
    const res = await emu.app.handle(
      new Request(`http://emulator.test/v2/${other.id}/job-take/w1`, { headers: { authorization: other.aiKey } }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "worker w1 belongs to another endpoint" });
    const missing = await emu.app.handle(
      new Request("http://emulator.test/v2/nope/job-take/w1", { headers: { authorization: KEY } }),
    );
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "endpoint nope not found" });
  });
});

describe("job-done", () => {
  test("{output} completes the job; the worker is idle again", async () => {
    const id = await running();
    const res = await worker(`job-done/w1/${id}?gpu=cpu&isStream=false`, JSON.stringify({ output: { sum: 3 } }));
    expect(await res.json()).toEqual({ ok: true });
    expect((await client("GET", `status/${id}`)).body).toMatchObject({ status: "COMPLETED", output: { sum: 3 } });
    expect(emu.ctx.supervisor.workers.get("w1")!.state).toBe("idle");
  });

  test("a worker running several jobs (maxConcurrency) stays running until its last job is done", async () => {
    const ids: string[] = [];
    for (const n of [1, 2]) ids.push((await client("POST", "run", { input: n })).body.id);
    expect((await worker("job-take-batch/w1?batch_size=2&job_in_progress=0")).status).toBe(200);
    // Asking for more while jobs run (job_in_progress=1) does not make it idle.
    expect((await worker("job-take-batch/w1?batch_size=2&job_in_progress=1")).status).toBe(204);
    expect(emu.ctx.supervisor.workers.get("w1")!.state).toBe("running");
    await worker(`job-done/w1/${ids[0]}?isStream=false`, JSON.stringify({ output: 1 }));
    expect(emu.ctx.supervisor.workers.get("w1")!.state).toBe("running");
    await worker(`job-done/w1/${ids[1]}?isStream=false`, JSON.stringify({ output: 2 }));
    expect(emu.ctx.supervisor.workers.get("w1")!.state).toBe("idle");
  });

  test("{error} fails the job; {status: IN_PROGRESS} is a progress update that keeps it running", async () => {
    const id = await running();
    await worker(`job-done/w1/${id}?isStream=false`, JSON.stringify({ status: "IN_PROGRESS", output: "1/2" }));
    expect((await client("GET", `status/${id}`)).body).toMatchObject({ status: "IN_PROGRESS", output: "1/2" });
    expect(emu.ctx.supervisor.workers.get("w1")!.state).toBe("running");
    await worker(`job-done/w1/${id}?isStream=false`, JSON.stringify({ error: "boom" }));
    expect((await client("GET", `status/${id}`)).body).toMatchObject({ status: "FAILED", error: "boom" });
  });

  test("a body that is not JSON, or not an object, is 400 with the reason", async () => {
    const id = await running();
    const notJson = await worker(`job-done/w1/${id}`, "output=1");
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "job-done body must be JSON" });
    for (const body of ["[1]", "null", "3", ""]) {
      const res = await worker(`job-done/w1/${id}`, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^job-done body must be (JSON|a JSON object)$/);
    }
    expect((await client("GET", `status/${id}`)).body.status).toBe("IN_PROGRESS");
  });

  test("a job that is not running on this worker is 404", async () => {
    const id = await running("w1");
    await worker("job-take/w2");
    const res = await worker(`job-done/w2/${id}`, JSON.stringify({ output: 1 }));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: `job ${id} is not running on worker w2` });
  });
});

describe("job-stream", () => {
  test("{output} chunks are read once through /stream, in order", async () => {
    const id = await running();
    for (const chunk of [{ i: 1 }, "two"]) {
      const res = await worker(`job-stream/w1/${id}?isStream=false`, JSON.stringify({ output: chunk }));
      expect(await res.json()).toEqual({ ok: true });
    }
    expect((await client("GET", `stream/${id}?wait=0`)).body).toEqual({
      status: "IN_PROGRESS",
      stream: [{ output: { i: 1 } }, { output: "two" }],
    });
    expect((await client("GET", `stream/${id}?wait=0`)).body).toEqual({ status: "IN_PROGRESS", stream: [] });
  });

  test("a chunk without output, or not a JSON object, is 400 with the shape wanted", async () => {
    const id = await running();
    const wanted = { error: 'job-stream body must be a JSON object {"output": <chunk>}' };
    for (const body of [JSON.stringify({ chunk: 1 }), "[1]"]) {
      const res = await worker(`job-stream/w1/${id}`, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(wanted);
    }
    const notJson = await worker(`job-stream/w1/${id}`, "{");
    expect(await notJson.json()).toEqual({ error: "job-stream body must be JSON" });
  });
});

describe("ping and job-stop", () => {
  test("ping answers ok and counts as the worker's heartbeat", async () => {
    const res = await worker("ping/w1?job_id=&runpod_version=unit");
    expect(await res.json()).toEqual({ ok: true });
    expect(emu.ctx.supervisor.workers.get("w1")!.pings).toBe(1);
  });

  test("job-stop is 204 until a job of the worker is cancelled, then names it once", async () => {
    const id = await running();
    expect((await worker("job-stop/w1")).status).toBe(204);
    expect(emu.ctx.supervisor.workers.get("w1")!.stopChannel).toBe(true);
    expect((await client("POST", `cancel/${id}`)).body).toEqual({ id, status: "CANCELLED" });
    const stop = await worker("job-stop/w1");
    expect(await stop.json()).toEqual({ jobsToStop: [id] });
    expect((await worker("job-stop/w1")).status).toBe(204);
  });
});
