// The local worker pool with real workers (threads and subprocesses): results and errors, timeouts, crashes and
// exits, processes that stop when idle or at shutdown, the environment a worker gets. The scheduling rules alone
// (queue order, workersMin/Max, idle timeout, cancels, reloads) are tested in milliseconds on in-memory workers in
// test/unit/remote/pool-scheduler.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { CpuLiveServerless, LiveServerless } from "../../core/remote/config";
import { Pool, type PoolOptions } from "../../core/remote/local/pool";
import type { FunctionResponse } from "../../core/remote/protocol";
import * as fx from "../fixtures/remote/functions";
import { alive, recordingLog, requestFor, until } from "../fixtures/remote/helpers";

const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.shutdown()));
});

let n = 0;
function cpuPool(
  fields: Record<string, unknown> = {},
  kind: "thread" | "process" = "thread",
  opts: Partial<PoolOptions> = {},
) {
  const { log, lines } = recordingLog();
  const config = new CpuLiveServerless({ name: `pool_test_${++n}`, ...fields });
  const pool = new Pool(config, { kind, log, ...opts });
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
  test("an idle process worker above workersMin stops after the idle timeout, and its process is gone", async () => {
    const { pool } = cpuPool({ workersMax: 1 }, "process", { idleTimeoutMs: 50 });
    ok(await pool.call(requestFor(fx.double, 1)));
    const [pid] = pool.pids();
    expect(pid).toBeNumber();
    await until(() => pool.status().workers.total === 0, "scale to zero");
    await until(() => !alive(pid!), "the idle worker's process gone");
  });
});

describe.each(["thread", "process"] as const)("isolation (%s workers)", (kind) => {
  test("a call past executionTimeoutMs fails with a timeout and its worker is replaced", async () => {
    // The limit applies to every call, the quick ones around the nap too: 1 s leaves them room on a loaded machine.
    const { pool } = cpuPool({ workersMax: 1, executionTimeoutMs: 1_000 }, kind);
    const before = ok(await pool.call(requestFor(fx.whoami))) as { worker: string; pid: number };
    const res = await pool.call(requestFor(fx.nap, 20_000));
    expect(res.error).toMatchObject({ name: "TimeoutError", status: 504 });
    expect(res.error?.message).toContain("1000 ms");
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

describe.each(["thread", "process"] as const)("maxConcurrency (%s workers)", (kind) => {
  test("one worker runs three calls at once, and each call's output is its own", async () => {
    const { pool } = cpuPool({ workersMax: 1, maxConcurrency: 3 }, kind);
    const replies = await Promise.all(["a", "b", "c"].map((tag) => pool.call(requestFor(fx.overlap, 150, tag))));
    const results = replies.map((r) => ok(r) as { seen: number; pid: number });
    expect(Math.max(...results.map((r) => r.seen))).toBe(3);
    expect(new Set(results.map((r) => r.pid)).size).toBe(1);
    expect(replies.map((r) => r.stdout)).toEqual(["start a\nend a", "start b\nend b", "start c\nend c"]);
  });
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

describe("shutdown", () => {
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
