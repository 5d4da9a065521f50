// The local worker pool with real workers (threads and subprocesses): results and errors, min/max/idle
// scaling, FIFO queueing, timeouts, crash isolation, recycling and shutdown.
import { afterAll, describe, expect, test } from "bun:test";
import { CpuLiveServerless, LiveServerless } from "../../core/remote/config";
import { Pool } from "../../core/remote/local/pool";
import type { FunctionResponse } from "../../core/remote/protocol";
import * as fx from "../fixtures/remote/functions";
import { alive, recordingLog, requestFor, until } from "../fixtures/remote/helpers";

const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.shutdown()));
});

let n = 0;
function cpuPool(fields: Record<string, unknown> = {}, kind: "thread" | "process" = "thread") {
  const { log, lines } = recordingLog();
  const config = new CpuLiveServerless({ name: `pool_test_${++n}`, ...fields });
  const pool = new Pool(config, { kind, log });
  pools.push(pool);
  return { pool, lines };
}

function ok(res: FunctionResponse): unknown {
  if (!res.success) throw new Error(`call failed: ${res.error?.name}: ${res.error?.message}`);
  return res.result;
}

describe("results and errors", () => {
  test("returns the result; remote functions use module-level helpers; output is captured and logged with the name", async () => {
    const { pool, lines } = cpuPool();
    expect(ok(await pool.call(requestFor(fx.double, 21)))).toBe(42);
    const res = await pool.call(requestFor(fx.shout, "hi"));
    expect(ok(res)).toBe("HI");
    expect(res.stdout).toBe("shouting hi\nto stderr");
    expect(lines).toContain("shout: shouting hi");
    expect(lines).toContain("shout: to stderr");
  });

  test("a thrown error comes back with name, message, stack (and a 4xx status when it has one)", async () => {
    const { pool } = cpuPool();
    const input = await pool.call(requestFor(fx.rejectInput, "bad value"));
    expect(input.success).toBe(false);
    expect(input.error).toMatchObject({ name: "InputError", message: "bad value", status: 400 });
    const type = await pool.call(requestFor(fx.typeError));
    expect(type.error?.name).toBe("TypeError");
    expect(type.error?.stack).toContain("fixtures/remote/functions.ts");
    expect(pool.status().errors).toBe(2);
    expect(pool.status().calls).toBe(2);
  });

  test("a result that is not JSON is an error naming the function", async () => {
    const { pool } = cpuPool();
    const res = await pool.call(requestFor(fx.badResult));
    expect(res.error?.name).toBe("TypeError");
    expect(res.error?.message).toContain("badResult");
    expect(res.error?.message).toContain("its result is a Map");
  });

  test("an unknown function name is a clear lookup error that lists the module's remote exports", async () => {
    const { pool } = cpuPool();
    const res = await pool.call({ ...requestFor(fx.double, 1), name: "nope" });
    expect(res.error?.name).toBe("LookupError");
    expect(res.error?.message).toContain('exports no remote function "nope"');
    expect(res.error?.message).toContain("double");
  });
});

describe("scaling", () => {
  test("workersMin workers are kept warm before any call", async () => {
    const { pool } = cpuPool({ workersMin: 2, workersMax: 3 });
    await until(() => pool.status().workers.idle === 2, "two warm workers");
    expect(pool.status().workers.total).toBe(2);
    expect(pool.status().lastColdStartMs).toBeGreaterThan(0);
  });

  test("concurrent calls scale up to workersMax, never beyond", async () => {
    const { pool, lines } = cpuPool({ workersMax: 2, idleTimeout: 30 });
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, pool.status().workers.total)), 5);
    const results = (await Promise.all([1, 2, 3, 4].map((i) => pool.call(requestFor(fx.nap, 400, `c${i}`))))).map(
      ok,
    ) as { worker: string }[];
    clearInterval(watch);
    expect(new Set(results.map((r) => r.worker)).size).toBe(2);
    expect(most).toBeLessThanOrEqual(2);
    expect(pool.status().workers.total).toBe(2);
    expect(lines.filter((l) => l.startsWith("scale up")).length).toBe(2);
  });

  test("idle workers stop after idleTimeout, down to workersMin", async () => {
    const { pool, lines } = cpuPool({ workersMin: 1, workersMax: 3, idleTimeout: 0.5 });
    await Promise.all([1, 2, 3].map(() => pool.call(requestFor(fx.nap, 300))));
    expect(pool.status().workers.total).toBe(3);
    await until(() => pool.status().workers.total === 1, "scale down to workersMin");
    await Bun.sleep(700); // and it stays at the minimum
    expect(pool.status().workers).toMatchObject({ total: 1, idle: 1 });
    expect(lines.filter((l) => l.startsWith("scale down")).length).toBe(2);
  });

  test("with workersMin 0 the pool scales to zero", async () => {
    const { pool } = cpuPool({ workersMax: 1, idleTimeout: 0.2 });
    ok(await pool.call(requestFor(fx.double, 1)));
    await until(() => pool.status().workers.total === 0, "scale to zero");
  });
});

describe("queueing", () => {
  test("calls beyond capacity wait and run in FIFO order", async () => {
    const { pool } = cpuPool({ workersMax: 1, idleTimeout: 30 });
    const order: string[] = [];
    const first = pool.call(requestFor(fx.nap, 300, "t0")).then((r) => order.push((ok(r) as { tag: string }).tag));
    await until(() => pool.status().workers.busy === 1, "first call running");
    const rest = ["t1", "t2", "t3", "t4", "t5"].map((tag) =>
      pool.call(requestFor(fx.nap, 10, tag)).then((r) => order.push((ok(r) as { tag: string }).tag)),
    );
    expect(pool.status().queue).toBe(5);
    await Promise.all([first, ...rest]);
    expect(order).toEqual(["t0", "t1", "t2", "t3", "t4", "t5"]);
    expect(pool.status().queue).toBe(0);
  });

  test("an aborted queued call leaves the queue with an AbortError", async () => {
    const { pool } = cpuPool({ workersMax: 1 });
    const running = pool.call(requestFor(fx.nap, 300));
    const controller = new AbortController();
    const queued = pool.call(requestFor(fx.double, 2), controller.signal);
    controller.abort();
    expect((await queued).error?.name).toBe("AbortError");
    ok(await running);
  });
});

describe.each(["thread", "process"] as const)("isolation (%s workers)", (kind) => {
  test("a call past executionTimeoutMs fails with a timeout and its worker is replaced", async () => {
    const { pool } = cpuPool({ workersMax: 1, executionTimeoutMs: 500 }, kind);
    const before = ok(await pool.call(requestFor(fx.whoami))) as { worker: string; pid: number };
    const res = await pool.call(requestFor(fx.nap, 20_000));
    expect(res.error).toMatchObject({ name: "TimeoutError", status: 504 });
    expect(res.error?.message).toContain("500 ms");
    const after = ok(await pool.call(requestFor(fx.whoami))) as { worker: string; pid: number };
    expect(after.worker).not.toBe(before.worker);
    if (kind === "process") await until(() => !alive(before.pid), "timed-out worker process gone");
    expect(pool.status().timeouts).toBe(1);
  });

  test("process.exit in a function fails only its own call; the pool replaces the worker", async () => {
    const { pool } = cpuPool({ workersMin: 1, workersMax: 2 }, kind);
    const other = pool.call(requestFor(fx.nap, 600, "survivor"));
    const res = await pool.call(requestFor(fx.exitNow, 3));
    expect(res.error?.name).toBe("WorkerCrashed");
    expect(res.error?.message).toContain("code 3");
    expect((ok(await other) as { tag: string }).tag).toBe("survivor");
    expect(ok(await pool.call(requestFor(fx.double, 5)))).toBe(10);
    await until(() => pool.status().workers.total >= 1, "replacement worker");
    expect(pool.status().crashes).toBe(1);
  });

  test("an uncaught error in a timer crashes only that worker and fails only its call", async () => {
    const { pool } = cpuPool({ workersMax: 1 }, kind);
    const res = await pool.call(requestFor(fx.crashLater));
    expect(res.error?.name).toBe("WorkerCrashed");
    expect(ok(await pool.call(requestFor(fx.double, 4)))).toBe(8);
  });
});

// Process workers only here: under `bun test`, a worker thread closes on an uncaught error whatever handlers it has
// (outside the test runner it keeps running); test/dev/all-day.test.ts checks both kinds through `flash run`.
describe.each(["process"] as const)("errors that escape a call (%s workers)", (kind) => {
  for (const [fn, what] of [
    [fx.timerCrash, "an uncaught error"],
    [fx.rejectLater, "an unhandled promise rejection"],
  ] as const) {
    test(`${what} after a call returned fails no later call; the log names the right function`, async () => {
      const { pool, lines } = cpuPool({ workersMax: 1 }, kind);
      const first = ok(await pool.call(requestFor(fn)));
      expect(first).toBe("returned");
      const before = ok(await pool.call(requestFor(fx.whoami))) as { worker: string };
      // Someone else's call is running when the error escapes: it finishes normally.
      const innocent = await pool.call(requestFor(fx.nap, 300, "innocent"));
      expect((ok(innocent) as { tag: string }).tag).toBe("innocent");
      const name = (fn as { name: string }).name;
      await until(
        () => lines.some((l) => /left over from/.test(l) && l.includes(name)),
        "the fault logged with its origin",
      );
      expect(lines.join("\n")).toContain(what);
      // The faulted worker is replaced: later calls run on a fresh one.
      await until(() => pool.status().workers.total === 0, "faulted worker retired");
      const after = ok(await pool.call(requestFor(fx.whoami))) as { worker: string };
      expect(after.worker).not.toBe(before.worker);
      expect(pool.status().crashes).toBe(1);
    }, 30_000);
  }
});

describe("large arguments", () => {
  test("a million numbers to a process worker cost about what their JSON costs (not a structured clone)", async () => {
    const { pool } = cpuPool({ workersMax: 1 }, "process");
    ok(await pool.call(requestFor(fx.whoami))); // warm
    const numbers = Array.from({ length: 1_000_000 }, (_, i) => i);
    const res = await pool.call(requestFor(fx.summarize, { numbers }));
    expect(ok(res)).toEqual({ count: 1_000_000, largest: 999_999 });
  }, 30_000);
});

describe("workers that cannot start", () => {
  test("an environment too large to spawn (E2BIG) fails the call with the variable named; the pool lives on", async () => {
    const { log, lines } = recordingLog();
    const config = new LiveServerless({ name: `pool_test_${++n}`, workersMin: 1, workersMax: 1 });
    const huge = "a".repeat(200 * 1024);
    const pool = new Pool(config, { kind: "process", log, env: { FLASH_TEST_HUGE: huge } });
    pools.push(pool);
    await until(() => lines.some((l) => l.includes("E2BIG")), "the warm-up failure reported");
    expect(lines.join("\n")).toContain("FLASH_TEST_HUGE is 200 KiB");
    const res = await pool.call(requestFor(fx.double, 2));
    expect(res.error?.name).toBe("WorkerStartError");
    expect(res.error?.message).toContain("FLASH_TEST_HUGE");
    expect(pool.status().workers.total).toBe(0);
  }, 30_000);
});

describe("recycle and shutdown", () => {
  test("reconfigure adopts a newer config of the same name: a lower workersMax stops idle workers", async () => {
    const { pool } = cpuPool({ workersMax: 3, idleTimeout: 30 });
    await Promise.all([1, 2, 3].map(() => pool.call(requestFor(fx.nap, 300))));
    expect(pool.status().workers.total).toBe(3);
    const newer = new CpuLiveServerless({ name: pool.config.name, workersMin: 1, workersMax: 1, idleTimeout: 30 });
    pool.reconfigure(newer);
    expect(pool.config).toBe(newer);
    await until(() => pool.status().workers.total === 1, "down to the new workersMax");
    expect(pool.status()).toMatchObject({ workersMin: 1, workersMax: 1 });
  });

  test("recycle stops workers holding old code; the next call gets a new worker", async () => {
    const { pool } = cpuPool({ workersMin: 1, workersMax: 2, idleTimeout: 30 });
    const a = ok(await pool.call(requestFor(fx.whoami))) as { worker: string };
    await pool.recycle();
    const b = ok(await pool.call(requestFor(fx.whoami))) as { worker: string };
    expect(b.worker).not.toBe(a.worker);
    await until(() => pool.status().workers.total === 1, "one warm worker after recycle");
  });

  test("a busy worker finishes its call during a recycle, then stops", async () => {
    const { pool } = cpuPool({ workersMax: 1, idleTimeout: 30 });
    const running = pool.call(requestFor(fx.nap, 400, "old"));
    await until(() => pool.status().workers.busy === 1, "call running");
    await pool.recycle();
    const queued = pool.call(requestFor(fx.whoami)); // waits: the only place under workersMax is busy
    const old = ok(await running) as { worker: string; tag: string };
    expect(old.tag).toBe("old");
    const fresh = ok(await queued) as { worker: string };
    expect(fresh.worker).not.toBe(old.worker);
    expect(pool.status().workers.total).toBe(1);
  });

  test("shutdown stops every worker process and fails queued calls", async () => {
    const { pool } = cpuPool({ workersMin: 2, workersMax: 2 }, "process");
    await until(() => pool.status().workers.idle === 2, "two warm processes");
    const pids = pool.pids();
    expect(pids.every(alive)).toBe(true);
    const running = [pool.call(requestFor(fx.nap, 10_000)), pool.call(requestFor(fx.nap, 10_000))];
    const queued = pool.call(requestFor(fx.double, 1));
    await pool.shutdown();
    expect(pids.some(alive)).toBe(false);
    expect((await queued).error?.name).toBe("PoolStopped");
    for (const r of await Promise.all(running)) expect(r.error?.name).toBe("PoolStopped");
    expect((await pool.call(requestFor(fx.double, 1))).error?.name).toBe("PoolStopped");
    expect(pool.status().workers.total).toBe(0);
  });
});

test("GPU configs pass CUDA_VISIBLE_DEVICES from the device allocator to each worker", async () => {
  const { log } = recordingLog();
  const devices = ["0", "1", "0"];
  const config = new LiveServerless({ name: `pool_test_gpu_${++n}`, workersMax: 3 });
  const pool = new Pool(config, { kind: "process", log, devices: () => devices.shift() ?? null });
  pools.push(pool);
  const results = (await Promise.all([1, 2, 3].map(() => pool.call(requestFor(fx.gpuEnv, 500))))).map(ok) as {
    cuda: string;
  }[];
  expect(results.map((r) => r.cuda).sort()).toEqual(["0", "0", "1"]);
  expect(pool.status().devices.sort()).toEqual(["0", "0", "1"]);
});
