// Per-worker concurrency (`maxConcurrency`) in the pool's scheduler, on in-memory workers
// (test/unit/remote/fake-worker.ts): how many calls a worker runs at once, what waits, how many workers start, and
// what happens to the calls beside one that times out, crashes or is aborted.
import { afterEach, describe, expect, test } from "bun:test";
import { ConfigError, CpuLiveServerless } from "../../../core";
import { Pool } from "../../../core/remote/local/pool";
import type { FunctionResponse } from "../../../core/remote/protocol";
import { recordingLog } from "../../fixtures/remote/helpers";
import { FakeWorkers, request, until } from "./fake-worker";

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.shutdown()));
});

let n = 0;
/** A pool whose calls all stay running until the test finishes them. */
function holdingPool(fields: Record<string, unknown>) {
  const { log } = recordingLog();
  const workers = new FakeWorkers({ script: () => "hold" });
  const config = new CpuLiveServerless({ name: `unit_concurrency_${++n}`, ...fields });
  const pool = new Pool(config, { kind: "thread", log, start: workers.start });
  pools.push(pool);
  return { pool, workers };
}

const answered = (res: FunctionResponse) => (res.success ? res.result : `${res.error?.name}: ${res.error?.message}`);

describe("maxConcurrency", () => {
  test("with maxConcurrency 3, three calls run at once on one worker and the fourth waits for a free place", async () => {
    const { pool, workers } = holdingPool({ workersMax: 1, maxConcurrency: 3 });
    const calls = ["a", "b", "c", "d"].map((tag) => pool.call(request("io", tag)).then(answered));
    await until(() => workers.started[0]?.calls.length === 3, "three calls sent to the worker");
    const [worker] = workers.started;
    expect(worker!.calls.map((c) => c.req.args?.[0])).toEqual(["a", "b", "c"]);
    expect(pool.status()).toMatchObject({ queue: 1, workers: { total: 1, busy: 1 } });
    // The second call ends first: its place goes to the waiting one while the others still run.
    worker!.finish(worker!.calls[1]!.seq, { success: true, result: "b" });
    await until(() => worker!.calls.length === 4, "the fourth call sent once a place freed");
    expect(pool.status().queue).toBe(0);
    for (const c of worker!.calls)
      if (c.req.args?.[0] !== "b") worker!.finish(c.seq, { success: true, result: c.req.args?.[0] });
    expect(await Promise.all(calls)).toEqual(["a", "b", "c", "d"]);
    expect(workers.started.length).toBe(1);
    expect(pool.status()).toMatchObject({ calls: 4, workers: { busy: 0, idle: 1 } });
  });

  test("the default of 1 keeps one call per worker", async () => {
    const { pool, workers } = holdingPool({ workersMax: 1 });
    const calls = ["a", "b"].map((tag) => pool.call(request("io", tag)));
    await until(() => workers.started[0]?.calls.length === 1, "one call sent");
    // The scheduler hands out every free place in the same pass: the second call would be out already.
    expect(pool.status().queue).toBe(1);
    const w = workers.started[0]!;
    w.finish(w.lastSeq, { success: true, result: 1 });
    await until(() => w.calls.length === 2, "the second call sent");
    w.finish(w.lastSeq, { success: true, result: 2 });
    await Promise.all(calls);
  });

  test("waiting calls start only as many workers as they fill", async () => {
    const { pool, workers } = holdingPool({ workersMax: 5, maxConcurrency: 4 });
    const calls = Array.from({ length: 6 }, (_, i) => pool.call(request("io", i)));
    await until(() => workers.started.reduce((k, w) => k + w.calls.length, 0) === 6, "all six calls sent");
    expect(workers.started.length).toBe(2);
    expect(workers.started.map((w) => w.calls.length).sort()).toEqual([2, 4]);
    for (const w of workers.started)
      for (const c of w.calls) w.finish(c.seq, { success: true, result: c.req.args?.[0] });
    await Promise.all(calls);
  });

  test("a timed-out call stops its worker: the calls beside it fail saying why, and later calls get a new worker", async () => {
    const { pool, workers } = holdingPool({ workersMax: 1, maxConcurrency: 2, executionTimeoutMs: 30 });
    const [a, b] = ["a", "b"].map((tag) => pool.call(request("io", tag)).then(answered));
    expect(await a).toMatch(/^TimeoutError: .*io.* did not finish within 30 ms/);
    expect(await b).toMatch(/^WorkerCrashed: .*its worker was stopped \(.*timed out\)/);
    expect(workers.started[0]!.stopped).toBe("hard");
    const next = pool.call(request("io", "c")).then(answered);
    await until(() => workers.started[1]?.calls.length === 1, "a new worker takes the next call");
    workers.started[1]!.finish(workers.started[1]!.lastSeq, { success: true, result: "c" });
    expect(await next).toBe("c");
  });

  test("a worker that exits fails every call it ran", async () => {
    const { pool, workers } = holdingPool({ workersMax: 1, maxConcurrency: 3 });
    const calls = ["a", "b", "c"].map((tag) => pool.call(request("io", tag)).then(answered));
    await until(() => workers.started[0]?.calls.length === 3, "three calls running");
    workers.started[0]!.exit(1);
    for (const res of await Promise.all(calls)) expect(res).toMatch(/^WorkerCrashed: the worker running .* exited/);
    expect(pool.status().crashes).toBe(1);
  });

  test("aborting one of several calls answers it at once and leaves the others running on the same worker", async () => {
    const { pool, workers } = holdingPool({ workersMax: 1, maxConcurrency: 2 });
    const ctl = new AbortController();
    const a = pool.call(request("io", "a"), ctl.signal).then(answered);
    const b = pool.call(request("io", "b")).then(answered);
    await until(() => workers.started[0]?.calls.length === 2, "two calls running");
    ctl.abort();
    expect(await a).toMatch(/^AbortError: .*the call was aborted$/);
    const w = workers.started[0]!;
    expect(w.stopped).toBe(false);
    w.finish(w.calls[0]!.seq, { success: true, result: "late" }); // dropped: its caller is gone
    w.finish(w.calls[1]!.seq, { success: true, result: "b" });
    expect(await b).toBe("b");
    expect(pool.status().workers).toMatchObject({ total: 1, idle: 1 });
  });
});

describe("the maxConcurrency option", () => {
  test("defaults to 1, takes a whole number ≥ 1, and shows in the config's JSON only when set above 1", () => {
    expect(new CpuLiveServerless({ name: "c1" }).maxConcurrency).toBe(1);
    expect(new CpuLiveServerless({ name: "c1" }).toJSON().maxConcurrency).toBeUndefined();
    expect(new CpuLiveServerless({ name: "c8", maxConcurrency: 8 }).toJSON().maxConcurrency).toBe(8);
    expect(() => new CpuLiveServerless({ name: "c0", maxConcurrency: 0 })).toThrow(ConfigError);
    expect(() => new CpuLiveServerless({ name: "cx", maxConcurrency: 1.5 })).toThrow(
      /maxConcurrency must be a whole number/,
    );
  });
});
