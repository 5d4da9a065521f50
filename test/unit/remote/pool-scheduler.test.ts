// The pool's scheduler on in-memory workers (test/unit/remote/fake-worker.ts), in milliseconds: queue order,
// workersMax, warm workers, idle scale-down, faults, timeouts, cancels, stream cancel grace and reloads. The same
// rules with real threads and processes (crashes, exits, kills, environments) are in test/remote/pool.test.ts.
import { afterEach, describe, expect, test } from "bun:test";
import { CpuLiveServerless } from "../../../core/remote/config";
import { LocalTarget } from "../../../core/remote/local/local-target";
import { Pool, type PoolOptions } from "../../../core/remote/local/pool";
import type { FunctionResponse, RemoteFunctionRef } from "../../../core/remote/protocol";
import { recordingLog } from "../../fixtures/remote/helpers";
import { type FakeWorker, FakeWorkers, request, until } from "./fake-worker";

const pools: Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.shutdown()));
});

let n = 0;
function fakePool(fields: Record<string, unknown> = {}, opts: Partial<PoolOptions> & { workers?: FakeWorkers } = {}) {
  const { log, lines } = recordingLog();
  const workers = opts.workers ?? new FakeWorkers();
  const config = new CpuLiveServerless({ name: `unit_pool_${++n}`, ...fields });
  const pool = new Pool(config, { kind: "thread", log, start: workers.start, ...opts });
  pools.push(pool);
  return { pool, workers, lines };
}

/** A script: calls named "slow" stay running until the test finishes them; others return their first argument. */
const slowHolds = (req: { name?: string; args?: unknown[] }) =>
  req.name === "slow" ? ("hold" as const) : { result: req.args?.[0] ?? null };

function ok(res: FunctionResponse): unknown {
  if (!res.success) throw new Error(`call failed: ${res.error?.name}: ${res.error?.message}`);
  return res.result;
}

/** The worker a call with argument `tag` was sent to. */
function workerOf(workers: FakeWorkers, tag: unknown): FakeWorker {
  const w = workers.started.find((x) => x.calls.some((c) => c.req.args?.[0] === tag));
  if (!w) throw new Error(`no worker got the call ${String(tag)}`);
  return w;
}

/** Answer each worker's latest call (with its argument) until nothing runs or waits. */
async function answerEverything(pool: Pool, workers: FakeWorkers): Promise<void> {
  await until(() => {
    for (const w of workers.started) {
      const last = w.calls.at(-1);
      if (last) w.finish(last.seq, { success: true, result: last.req.args?.[0] });
    }
    return pool.status().queue === 0 && pool.status().workers.busy === 0;
  }, "every call answered");
}

function seqOf(worker: FakeWorker, tag: unknown): number {
  return worker.calls.find((c) => c.req.args?.[0] === tag)!.seq;
}

describe("queue and capacity", () => {
  test("calls beyond capacity wait and run in FIFO order", async () => {
    const { pool, workers } = fakePool({ workersMax: 1 }, { workers: new FakeWorkers({ script: slowHolds }) });
    const order: unknown[] = [];
    const first = pool.call(request("slow", "t0")).then((r) => order.push("t0") && r);
    await until(() => pool.status().workers.busy === 1, "the first call running");
    const rest = ["t1", "t2", "t3", "t4", "t5"].map((tag) =>
      pool.call(request("quick", tag)).then((r) => order.push(ok(r))),
    );
    expect(pool.status().queue).toBe(5);
    const [worker] = workers.started;
    worker!.finish(worker!.lastSeq, { success: true, result: "t0" });
    await Promise.all([first, ...rest]);
    expect(order).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    expect(worker!.calls.map((c) => c.req.args?.[0])).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    expect(workers.started.length).toBe(1);
    expect(pool.status()).toMatchObject({ queue: 0, calls: 6 });
  });

  test("concurrent calls start workers up to workersMax, never beyond; a freed worker takes the oldest waiting call", async () => {
    const { pool, workers, lines } = fakePool({ workersMax: 2 }, { workers: new FakeWorkers({ script: slowHolds }) });
    const calls = ["a", "b", "c", "d"].map((tag) => pool.call(request("slow", tag)));
    await until(() => pool.status().workers.busy === 2, "two workers busy");
    expect(workers.started.length).toBe(2);
    expect(pool.status()).toMatchObject({ queue: 2, workers: { total: 2, busy: 2 } });
    expect(lines.filter((l) => l.startsWith("scale up")).length).toBe(2);
    const wa = workerOf(workers, "a");
    wa.finish(seqOf(wa, "a"), { success: true, result: "a" });
    expect(ok(await calls[0]!)).toBe("a");
    await until(() => wa.calls.length === 2, "the freed worker took a waiting call");
    expect(wa.calls[1]!.req.args).toEqual(["c"]); // FIFO: c before d
    await answerEverything(pool, workers);
    expect((await Promise.all(calls)).map(ok)).toEqual(["a", "b", "c", "d"]);
    expect(workers.started.length).toBe(2);
  });

  test("calls of one remote object go to the worker that holds it, even when another is idle", async () => {
    const { pool, workers } = fakePool({ workersMin: 2, workersMax: 2 });
    await until(() => pool.status().workers.idle === 2, "two warm workers");
    const first = { ...request("Counter.add", 1), instanceId: "obj-1" };
    ok(await pool.call(first));
    const holder = workerOf(workers, 1);
    for (const arg of [2, 3, 4]) ok(await pool.call({ ...request("Counter.add", arg), instanceId: "obj-1" }));
    expect(holder.calls.map((c) => c.req.args?.[0])).toEqual([1, 2, 3, 4]);
  });
});

describe("warm workers and idle scale-down", () => {
  test("workersMin workers start before any call and wait idle", async () => {
    const { pool, workers } = fakePool({ workersMin: 2, workersMax: 3 });
    expect(workers.started.length).toBe(2);
    await until(() => pool.status().workers.idle === 2, "two warm workers");
    expect(pool.status().lastColdStartMs).not.toBeNull();
    expect(workers.started.every((w) => !w.held)).toBe(true); // idle workers do not keep the process alive
  });

  test("idle workers above workersMin stop after the idle timeout (50 ms); the warm one stays", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool, lines } = fakePool({ workersMin: 1, workersMax: 3 }, { workers, idleTimeoutMs: 50 });
    const calls = [1, 2, 3].map((i) => pool.call(request("slow", i)));
    await until(() => pool.status().workers.busy === 3, "three busy workers");
    await answerEverything(pool, workers);
    await Promise.all(calls);
    await until(() => pool.status().workers.total === 1, "scale-down to workersMin");
    await until(() => lines.some((l) => l.includes("kept warm (workersMin 1)")), "the warm worker's timer passed");
    expect(pool.status().workers).toMatchObject({ total: 1, idle: 1 });
    expect(lines.filter((l) => l.startsWith("scale down")).length).toBe(2);
    expect(lines.some((l) => l.includes("(idle for 0.05 s)"))).toBe(true);
    expect(workers.started.filter((w) => w.stopped === "soft").length).toBe(2);
  });

  test("with workersMin 0 the pool scales to zero, and the next call starts a worker again", async () => {
    const { pool, workers } = fakePool({ workersMax: 1 }, { idleTimeoutMs: 50 });
    expect(ok(await pool.call(request("f", 1)))).toBe(1);
    await until(() => pool.status().workers.total === 0, "scale to zero");
    expect(ok(await pool.call(request("f", 2)))).toBe(2);
    expect(workers.started.length).toBe(2);
  });

  test("the idle timeout defaults to the config's idleTimeout seconds; /health shows the one in use", () => {
    const { pool } = fakePool({ idleTimeout: 7 });
    expect(pool.idleTimeoutMs).toBe(7000);
    const fast = fakePool({ idleTimeout: 7 }, { idleTimeoutMs: 50 }).pool;
    expect(fast.idleTimeoutMs).toBe(50);
    expect(fast.status().idleTimeout).toBe(0.05); // /health shows seconds, as configured
  });

  test("reconfigure adopts a newer config of the same name: a lower workersMax stops idle workers", async () => {
    const { pool, workers } = fakePool({ workersMin: 3, workersMax: 3 });
    await until(() => pool.status().workers.idle === 3, "three warm workers");
    const newer = new CpuLiveServerless({ name: pool.config.name, workersMin: 1, workersMax: 1 });
    pool.reconfigure(newer);
    expect(pool.config).toBe(newer);
    expect(pool.status()).toMatchObject({ workersMin: 1, workersMax: 1, workers: { total: 1 } });
    expect(workers.alive.length).toBe(1);
  });
});

describe("faults, exits and timeouts fail only their own call", () => {
  test("an error escaping a call's own callback fails that call; its worker is replaced, the other call finishes", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool } = fakePool({ workersMin: 2, workersMax: 2 }, { workers });
    await until(() => pool.status().workers.idle === 2, "two warm workers");
    const a = pool.call(request("slow", "a"));
    const b = pool.call(request("slow", "b"));
    await until(() => pool.status().workers.busy === 2, "both running");
    const wa = workerOf(workers, "a");
    const wb = workerOf(workers, "b");
    wa.fault(seqOf(wa, "a"), "slow");
    const res = await a;
    expect(res.error?.name).toBe("WorkerCrashed");
    expect(res.error?.message).toContain("an uncaught error in a callback it started (Error: boom)");
    expect(wa.stopped).toBe("hard");
    await until(() => workers.started.length === 3, "a replacement worker");
    wb.finish(seqOf(wb, "b"), { success: true, result: "b" });
    expect(ok(await b)).toBe("b");
    expect(pool.status()).toMatchObject({ crashes: 1, errors: 1 });
  });

  test("an error left over from an earlier call lets the running call finish, then the worker is replaced", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool, lines } = fakePool({ workersMax: 1 }, { workers });
    expect(ok(await pool.call(request("quick", "earlier")))).toBe("earlier");
    const innocent = pool.call(request("slow", "innocent"));
    await until(() => pool.status().workers.busy === 1, "the innocent call running");
    const [w] = workers.started;
    w!.fault(seqOf(w!, "earlier"), "quick", "rejection");
    expect(w!.stopped).toBe(false); // not while someone else's call runs
    w!.finish(seqOf(w!, "innocent"), { success: true, result: "innocent" });
    expect(ok(await innocent)).toBe("innocent");
    expect(w!.stopped).toBe("soft");
    expect(lines.join("\n")).toContain("an unhandled promise rejection left over from quick");
    expect(ok(await pool.call(request("quick", "later")))).toBe("later");
    expect(workerOf(workers, "later")).not.toBe(w!);
  });

  test("an error while a worker loads its modules (no call ran yet) is logged; the worker stays", async () => {
    const { pool, workers, lines } = fakePool({ workersMin: 1 });
    await until(() => pool.status().workers.idle === 1, "a warm worker");
    workers.started[0]!.fault(null, null);
    expect(lines.join("\n")).toContain("an uncaught error while loading its modules");
    expect(workers.started[0]!.stopped).toBe(false);
  });

  test("a worker that exits during a call fails only that call; the pool replaces it", async () => {
    const workers = new FakeWorkers({ script: (req) => (req.name === "exitNow" ? { exit: 3 } : slowHolds(req)) });
    const { pool } = fakePool({ workersMin: 1, workersMax: 2 }, { workers });
    const survivor = pool.call(request("slow", "survivor"));
    const res = await pool.call(request("exitNow", 1));
    expect(res.error?.name).toBe("WorkerCrashed");
    expect(res.error?.message).toContain("exited (code 3)");
    const ws = workerOf(workers, "survivor");
    ws.finish(seqOf(ws, "survivor"), { success: true, result: "survivor" });
    expect(ok(await survivor)).toBe("survivor");
    expect(ok(await pool.call(request("quick", 5)))).toBe(5);
    expect(pool.status().crashes).toBe(1);
  });

  test("a call past executionTimeoutMs (50 ms) fails with a 504 and its worker is killed and replaced", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool } = fakePool({ workersMin: 1, workersMax: 1, executionTimeoutMs: 50 }, { workers });
    const res = await pool.call(request("slow", "x"));
    expect(res.error).toMatchObject({ name: "TimeoutError", status: 504 });
    expect(res.error?.message).toContain("within 50 ms");
    expect(workers.started[0]!.stopped).toBe("hard");
    await until(() => pool.status().workers.idle === 1, "a fresh warm worker");
    expect(workers.started.length).toBe(2);
    expect(pool.status().timeouts).toBe(1);
  });

  test("a worker the OS refuses to start fails the oldest waiting call, naming the variable; the pool lives on", async () => {
    const workers = new FakeWorkers();
    const { pool, lines } = fakePool({ workersMax: 1 }, { workers, env: { FLASH_TEST_HUGE: "a".repeat(200 * 1024) } });
    workers.failNextStart = Object.assign(new Error("spawn E2BIG"), { code: "E2BIG" });
    const res = await pool.call(request("f", 1));
    expect(res.error?.name).toBe("WorkerStartError");
    expect(res.error?.message).toContain("FLASH_TEST_HUGE is 200 KiB");
    expect(lines.filter((l) => l.includes("cannot start a worker")).length).toBe(1);
    expect(ok(await pool.call(request("f", 2)))).toBe(2);
  });

  test("a worker that exits while starting fails the oldest waiting call instead of retrying forever", async () => {
    const workers = new FakeWorkers({ autoBoot: false });
    const { pool } = fakePool({ workersMax: 1 }, { workers });
    const call = pool.call(request("f", 1));
    workers.started[0]!.exit(1);
    const res = await call;
    expect(res.error?.name).toBe("WorkerStartError");
    expect(res.error?.message).toContain("could not start (code 1)");
    expect(workers.started.length).toBe(1); // nothing waits: no new start
  });
});

describe("cancel", () => {
  test("an aborted queued call leaves the queue with an AbortError and never reaches a worker", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool } = fakePool({ workersMax: 1 }, { workers });
    const running = pool.call(request("slow", "running"));
    const controller = new AbortController();
    const queued = pool.call(request("quick", "queued"), controller.signal);
    controller.abort();
    const res = await queued;
    expect(res.error?.name).toBe("AbortError");
    expect(res.error?.message).toContain("while waiting for a worker");
    await until(() => pool.status().workers.busy === 1, "the first call running");
    const [w] = workers.started;
    w!.finish(w!.lastSeq, { success: true, result: "running" });
    expect(ok(await running)).toBe("running");
    expect(w!.calls.map((c) => c.req.args?.[0])).toEqual(["running"]);
  });

  test("an aborted running call fails at once; its worker is stopped and replaced", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool } = fakePool({ workersMin: 1, workersMax: 1 }, { workers });
    const controller = new AbortController();
    const call = pool.call(request("slow", 1), controller.signal);
    await until(() => pool.status().workers.busy === 1, "the call running");
    controller.abort();
    expect((await call).error?.message).toContain("the call was aborted; its worker was stopped");
    expect(workers.started[0]!.stopped).toBe("hard");
    await until(() => pool.status().workers.idle === 1, "a replacement worker");
  });

  test("a streamed call hands each chunk over; a cancelled one closes its generator and the worker stays", async () => {
    const workers = new FakeWorkers({ script: () => ({ chunks: [1, 2], then: "hold" }) });
    const { pool } = fakePool({ workersMax: 1 }, { workers, cancelGraceMs: 50 });
    const chunks: unknown[] = [];
    const controller = new AbortController();
    const call = pool.call({ ...request("gen"), stream: true }, controller.signal, (c) => chunks.push(c));
    await until(() => chunks.length === 2, "two chunks");
    controller.abort();
    expect((await call).error?.message).toContain("the caller stopped reading the stream");
    const [w] = workers.started;
    expect(w!.sent.at(-1)).toEqual({ type: "cancel", seq: w!.lastSeq });
    await until(() => pool.status().workers.idle === 1, "the worker idle again");
    expect(w!.stopped).toBe(false);
    expect(chunks).toEqual([1, 2]);
  });

  test("a generator that does not stop within the grace (50 ms) is stopped with its worker", async () => {
    const workers = new FakeWorkers({
      script: (req) => (req.name === "stuck" ? { chunks: ["only"], then: "stuck" } : { result: req.args?.[0] }),
    });
    const { pool, lines } = fakePool({ workersMax: 1 }, { workers, cancelGraceMs: 50 });
    const controller = new AbortController();
    const call = pool.call({ ...request("stuck"), stream: true }, controller.signal, () => controller.abort());
    expect((await call).error?.name).toBe("AbortError");
    const [w] = workers.started;
    expect(w!.stopped).toBe(false);
    await until(() => w!.stopped === "hard", "the stuck worker stopped after the grace");
    expect(lines.join("\n")).toContain("did not stop within 50 ms");
    expect(ok(await pool.call(request("f", 1)))).toBe(1);
  });
});

describe("reload", () => {
  test("refresh sends each worker the changed files and keeps it; a worker holding remote objects is replaced", async () => {
    const { pool, workers, lines } = fakePool({ workersMin: 2, workersMax: 2 });
    await until(() => pool.status().workers.idle === 2, "two warm workers");
    ok(await pool.call({ ...request("Counter.add", "obj"), instanceId: "obj-1" }));
    const holder = workerOf(workers, "obj");
    const other = workers.started.find((w) => w !== holder)!;
    pool.refresh(["/ws/01_a/01_b/worker.ts"]);
    expect(other.sent.at(-1)).toEqual({ type: "reload", files: ["/ws/01_a/01_b/worker.ts"] });
    expect(other.stopped).toBe(false);
    expect(holder.stopped).toBe("soft");
    expect(holder.sent.some((m) => m.type === "reload")).toBe(false);
    await until(() => lines.some((l) => l.includes("module(s) imported again")), "the worker's reloaded message");
    await until(() => pool.status().workers.idle === 2, "a replacement for the holder");
  });

  test("recycle stops idle workers now and busy ones after their call; new calls get new workers", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool } = fakePool({ workersMax: 1 }, { workers });
    const running = pool.call(request("slow", "old"));
    await until(() => pool.status().workers.busy === 1, "the call running");
    await pool.recycle();
    const queued = pool.call(request("quick", "new")); // waits: the only place under workersMax is busy
    const [old] = workers.started;
    expect(old!.stopped).toBe(false);
    old!.finish(old!.lastSeq, { success: true, result: "old" });
    expect(ok(await running)).toBe("old");
    expect(ok(await queued)).toBe("new");
    expect(old!.stopped).toBe("soft");
    expect(workerOf(workers, "new")).not.toBe(old!);
  });

  test("dropModulesUnder forgets the modules under the purged folders that were not prepared again", () => {
    const { pool } = fakePool();
    pool.addModule("/ws/01_a/01_b/gpu_worker.ts");
    pool.addModule("/ws/01_a/01_bb/gpu_worker.ts");
    const since = performance.now() + 1;
    expect(pool.dropModulesUnder(["/ws/02_c"], since)).toBe(false);
    expect(pool.dropModulesUnder(["/ws/01_a/01_b"], since)).toBe(true);
    expect(pool.moduleCount).toBe(1); // 01_bb is another folder
    pool.addModule("/ws/01_a/01_bb/gpu_worker.ts");
    expect(pool.dropModulesUnder(["/ws/01_a/"], since - 1)).toBe(true);
    expect(pool.moduleCount).toBe(1); // prepared again since: kept
  });

  test("a new worker preloads the pool's modules (FLASH_PRELOAD lists their files)", async () => {
    const { pool, workers } = fakePool({ workersMax: 1 });
    pool.addModule("/ws/01_a/01_b/cpu_worker.ts");
    ok(await pool.call(request("f", 1)));
    expect(JSON.parse(workers.started[0]!.env.FLASH_PRELOAD!)).toEqual([
      "/ws/01_a/01_b/cpu_worker.ts",
      "/unit/fake-module.ts",
    ]);
  });
});

describe("shutdown", () => {
  test("shutdown stops every worker and fails running and queued calls; later calls fail at once", async () => {
    const workers = new FakeWorkers({ script: slowHolds });
    const { pool } = fakePool({ workersMax: 1 }, { workers });
    const running = pool.call(request("slow", 1));
    const queued = pool.call(request("quick", 2));
    await until(() => pool.status().workers.busy === 1, "the call running");
    await pool.shutdown();
    expect((await running).error?.name).toBe("PoolStopped");
    expect((await queued).error?.name).toBe("PoolStopped");
    expect((await pool.call(request("quick", 3))).error?.name).toBe("PoolStopped");
    expect(workers.started.every((w) => w.stopped === "hard")).toBe(true);
    expect(pool.status().workers.total).toBe(0);
  });
});

describe("LocalTarget.holdWarmups", () => {
  function ref(name: string, workersMin: number): RemoteFunctionRef {
    const config = new CpuLiveServerless({ name, workersMin, workersMax: 2 });
    return { config, module: `/unit/${name}.ts`, name: "f", executionType: "function", options: {} };
  }

  test("warm workers wait until every hold is released; calls start the workers they need at once", async () => {
    const workers = new FakeWorkers();
    const target = new LocalTarget({ pool: { start: workers.start } });
    const releaseA = target.holdWarmups();
    const releaseB = target.holdWarmups();
    const warm = ref(`unit_hold_${++n}`, 1);
    target.prepare(warm);
    expect(workers.started.length).toBe(0);
    const cold = ref(`unit_hold_${++n}`, 0);
    expect(ok(await target.call(cold, request("f", 1)))).toBe(1);
    expect(workers.started.length).toBe(1);
    releaseA();
    releaseA(); // a second release of the same hold does nothing
    expect(workers.started.length).toBe(1);
    releaseB();
    expect(workers.started.map((w) => w.env.FLASH_RESOURCE_NAME)).toEqual([cold.config.name, warm.config.name]);
    await target.shutdown();
  });
});
