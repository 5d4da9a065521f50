// Streamed remote calls (generator functions) through the local pool, on thread and process workers: chunks
// arrive while the generator still runs, a reader that stops early closes the worker's generator (its finally
// runs, the worker stays), an error thrown midway reaches the reader after the chunks before it, and chunks
// obey the JSON-values rule.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RemoteError } from "../../core";
import { withCallSignal } from "../../core/base/call-context";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";
import * as fx from "../fixtures/remote/streams";
import { until } from "../fixtures/remote/helpers";

const temp = mkdtempSync(join(tmpdir(), "flash-stream-"));
const targets: LocalTarget[] = [];
afterAll(async () => {
  await Promise.all(targets.map((t) => t.shutdown()));
  rmSync(temp, { recursive: true, force: true });
});

let dirs = 0;
function freshDir(): string {
  const dir = join(temp, String(++dirs));
  require("node:fs").mkdirSync(dir);
  return dir;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

for (const kind of ["thread", "process"] as const) {
  describe(`${kind} workers`, () => {
    const target = new LocalTarget({ workerKind: kind });
    targets.push(target);

    test("a generator's chunks arrive in order, typed as an async generator", async () => {
      setTarget(target);
      const chunks = await collect(fx.count(3));
      expect(chunks.map((c) => c.i)).toEqual([1, 2, 3]);
      expect(await collect(fx.letters("abc"))).toEqual(["a", "b", "c"]);
      const pool = target.poolsByName().get("test_stream_cpu")!;
      expect(pool.workerKind).toBe(kind);
    }, 60_000);

    test("the first chunk arrives while the generator is still running (held at a gate)", async () => {
      setTarget(target);
      const dir = freshDir();
      const it = fx.gated(dir)[Symbol.asyncIterator]();
      expect(await it.next()).toEqual({ value: "first", done: false });
      // The generator waits for the gate: it cannot have finished, so the chunk was not buffered to the end.
      expect(existsSync(join(dir, "finished"))).toBe(false);
      writeFileSync(join(dir, "open"), "");
      expect(await it.next()).toEqual({ value: "second", done: false });
      expect((await it.next()).done).toBe(true);
      expect(existsSync(join(dir, "finished"))).toBe(true);
    }, 60_000);

    test("a reader that stops early closes the worker's generator (its finally runs) and the worker stays", async () => {
      setTarget(target);
      const dir = freshDir();
      const before = (await collect(fx.count(1)))[0]!.worker;
      const seen: number[] = [];
      for await (const n of fx.endless(dir)) {
        seen.push(n);
        if (n === 2) break;
      }
      expect(seen).toEqual([0, 1, 2]);
      await until(() => existsSync(join(dir, "closed")), "the generator's finally", 20_000);
      // Closed at its next step: a few chunks at most were produced past the reader's break.
      expect(Number(readFileSync(join(dir, "closed"), "utf8"))).toBeLessThan(10);
      const after = (await collect(fx.count(1)))[0]!.worker;
      expect(after).toBe(before); // the same worker: cancelled, not killed
    }, 60_000);

    test("an aborted request (client gone) cancels the stream", async () => {
      setTarget(target);
      const dir = freshDir();
      const controller = new AbortController();
      const seen: number[] = [];
      const reading = withCallSignal(controller.signal, () => fx.endless(dir));
      const err = await (async () => {
        for await (const n of reading) {
          seen.push(n);
          if (n === 1) controller.abort();
        }
      })().catch((e) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).remoteName).toBe("AbortError");
      expect(seen.slice(0, 2)).toEqual([0, 1]);
      await until(() => existsSync(join(dir, "closed")), "the generator's finally", 20_000);
    }, 60_000);

    test("an error thrown midway reaches the reader after the chunks yielded before it", async () => {
      setTarget(target);
      const seen: number[] = [];
      const err = await (async () => {
        for await (const n of fx.failsMidway()) seen.push(n);
      })().catch((e) => e);
      expect(seen).toEqual([1, 2]);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).message).toBe("broke after two chunks");
    }, 60_000);

    test("chunks must be JSON values; a plain function returning an async iterable is refused with the fix", async () => {
      setTarget(target);
      const seen: string[] = [];
      const err = await (async () => {
        for await (const s of fx.badChunk()) seen.push(s);
      })().catch((e) => e);
      expect(seen).toEqual(["fine"]);
      expect((err as RemoteError).remoteName).toBe("TypeError");
      expect((err as RemoteError).message).toContain("badChunk (chunk 2): its result is a Date");
      const refused = await fx.returnsIterable().catch((e) => e);
      expect((refused as RemoteError).message).toContain("declare the function `async function*`");
    }, 60_000);

    test("a generator method of a remote class streams and keeps the instance's state", async () => {
      setTarget(target);
      const counter = new fx.Counter();
      expect(await collect(counter.add([1, 2, 3]))).toEqual([1, 3, 6]);
      expect(await collect(counter.add([4]))).toEqual([10]);
      expect(await counter.total_()).toBe(10);
    }, 60_000);

    // Last of its group: making its own target current shuts the group's target down.
    test("a generator that never reaches its next step after the reader left is stopped with its worker", async () => {
      // A target of its own with a 50 ms grace (5 s by default), so the other tests' generators get the usual time.
      const graceful = new LocalTarget({ workerKind: kind, pool: { cancelGraceMs: 50 } });
      targets.push(graceful);
      setTarget(graceful);
      for await (const x of fx.stuck()) if (x === "only") break;
      const pool = graceful.poolsByName().get("test_stream_cpu")!;
      // Cancelled but stuck in an await: its worker is replaced after the grace, and the pool serves again.
      await until(() => pool.status().workers.total === 0, "the stuck worker to be stopped", 20_000);
      expect((await collect(fx.count(2))).map((c) => c.i)).toEqual([1, 2]);
    }, 60_000);
  });
}
