/**
 * The contract every target keeps (local pool, emulator, real Runpod): one suite, run against each by the
 * `*.test.ts` files beside this one (as hono's router suite runs against every router). It calls the fixture
 * workspace's functions (test/fixtures/runpod/ws/01_demo/01_basic/cpu_worker.ts) through `remote()` and `call()`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { statusOf } from "../../core/base/errors";
import { LocalTarget } from "../../core/remote/local/local-target";
import { RemoteError } from "../../core/remote/errors";
import type { FunctionRequest } from "../../core/remote/protocol";
import { currentTarget, setTarget, type Target } from "../../core/remote/target";

/** A target under test, the workspace its functions live in, and how to tear it down. */
export interface ContractSetup {
  target: Target;
  root: string;
  stop(): Promise<void>;
}

type Fn = (...args: unknown[]) => any;

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Run the target contract against the target `setup()` makes. */
export function describeTargetContract(name: string, setup: () => Promise<ContractSetup>, timeout = 60_000): void {
  describe(`the ${name} target keeps the remote-call contract`, () => {
    let s: ContractSetup;
    let fx: Record<string, Fn>;
    let module: string;
    const request = (fnName: string, args: unknown[]): FunctionRequest => ({
      module,
      name: fnName,
      executionType: "function",
      args,
    });
    const refOf = (fn: Fn) => (fn as unknown as { remote: Parameters<Target["call"]>[0] }).remote;

    beforeAll(async () => {
      s = await setup();
      setTarget(s.target);
      module = join(s.root, "01_demo/01_basic/cpu_worker.ts");
      fx = (await import(module)) as Record<string, Fn>;
    }, timeout);
    afterAll(async () => {
      await s?.stop();
      // The next file a --no-isolate worker runs gets the default target back, not this stopped one.
      setTarget(new LocalTarget());
    }, timeout);

    test(
      "a result comes back as the function returned it",
      async () => {
        expect(currentTarget()).toBe(s.target);
        const out = (await fx.hello!({ name: "contract" })) as { message: string };
        expect(out.message).toBe("HELLO CONTRACT!");
      },
      timeout,
    );

    test(
      "what the function prints comes back with the response",
      async () => {
        const res = await s.target.call(refOf(fx.hello!), request("hello", [{ name: "printer" }]));
        expect(res.success).toBe(true);
        expect(res.stdout).toContain("hello called for printer");
      },
      timeout,
    );

    test(
      "a thrown error reaches the caller as a RemoteError with its name, message and a stack naming the source",
      async () => {
        const err = (await fx.explode!("contract").catch((e: unknown) => e)) as RemoteError;
        expect(err).toBeInstanceOf(RemoteError);
        expect(err.remoteName).toBe("Error");
        expect(err.message).toBe("boom: contract");
        expect(err.remoteStack).toContain("cpu_worker.ts");
        expect(statusOf(err)).toBe(500);
      },
      timeout,
    );

    test(
      "an InputError maps to 400",
      async () => {
        const err = await fx.strict!(-1).catch((e: unknown) => e);
        expect((err as RemoteError).message).toBe("n must be >= 0");
        expect(statusOf(err)).toBe(400);
        expect(await fx.strict!(16)).toBe(4);
      },
      timeout,
    );

    test(
      "a name the module does not export as a remote function is a LookupError, never a run",
      async () => {
        const res = await s.target.call(refOf(fx.hello!), request("cpu_router", []));
        expect(res.success).toBe(false);
        expect(res.error?.name).toBe("LookupError");
        expect(res.error?.message).toContain('exports no remote function "cpu_router"');
      },
      timeout,
    );

    test(
      "a caller that gives up gets its answer at once, without waiting for the function",
      async () => {
        const controller = new AbortController();
        const started = performance.now();
        const pending = s.target.call(refOf(fx.nap!), request("nap", [20_000]), controller.signal);
        await Bun.sleep(300);
        controller.abort();
        const res = await pending;
        expect(res.success).toBe(false);
        expect(performance.now() - started).toBeLessThan(15_000);
      },
      timeout,
    );

    test(
      "a generator streams: chunks arrive while it still runs, in order",
      async () => {
        expect(await collect(fx.ticks!(3))).toEqual([{ tick: 1 }, { tick: 2 }, { tick: 3 }]);
        const dir = mkdtempSync(join(tmpdir(), "flash-contract-stream-"));
        try {
          const it = (fx.ticks!(3, dir) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
          // The last tick waits for the gate: the first two can only have come before the generator finished.
          expect((await it.next()).value).toEqual({ tick: 1 });
          expect((await it.next()).value).toEqual({ tick: 2 });
          writeFileSync(join(dir, "open"), "");
          expect((await it.next()).value).toEqual({ tick: 3 });
          expect((await it.next()).done).toBe(true);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      timeout,
    );

    test(
      "an error thrown midway reaches the reader after the chunks before it",
      async () => {
        const seen: unknown[] = [];
        const err = await (async () => {
          for await (const x of fx.ticksThenFail!(2) as AsyncIterable<unknown>) seen.push(x);
        })().catch((e: unknown) => e);
        expect(seen).toEqual([1, 2]);
        expect(err).toBeInstanceOf(RemoteError);
        expect((err as RemoteError).message).toBe("failed after 2 ticks");
      },
      timeout,
    );

    test(
      "a reader that stops early stops the generator",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "flash-contract-stop-"));
        const file = join(dir, "count");
        try {
          for await (const n of fx.forever!(file) as AsyncIterable<number>) if (n >= 2) break;
          // It stops writing: two reads 400 ms apart (eight of its 50 ms ticks) agree; bounded, so a generator that
          // runs on fails the test.
          const end = Date.now() + 30_000;
          let last = "";
          for (;;) {
            const now = existsSync(file) ? readFileSync(file, "utf8") : "";
            if (now === last && now !== "") break;
            if (Date.now() > end) throw new Error(`the generator kept running (at ${now})`);
            last = now;
            await Bun.sleep(400);
          }
          expect(Number(last)).toBeGreaterThanOrEqual(2);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      timeout,
    );
  });
}
