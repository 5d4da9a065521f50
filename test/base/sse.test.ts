// sse(): Server-Sent Events from a route, over a real socket: one `data:` event per chunk as it is produced, a
// final `event: done`, an `event: error` with a generic message (detail in the log), and a client that hangs up
// stops the remote generator in its worker.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sse, InputError } from "../../core";
import { withCallSignal } from "../../core/base/call-context";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";
import * as fx from "../fixtures/remote/streams";
import { until } from "../fixtures/remote/helpers";

const temp = mkdtempSync(join(tmpdir(), "flash-sse-"));
const target = new LocalTarget();
setTarget(target);

/** A server that answers like `flash run` does: each request's remote calls carry its abort signal. */
const server = Bun.serve({
  port: 0,
  idleTimeout: 60,
  fetch: (request) =>
    withCallSignal(request.signal, () => {
      const url = new URL(request.url);
      const dir = url.searchParams.get("dir") ?? temp;
      if (url.pathname === "/count") return sse(fx.count(3));
      if (url.pathname === "/gated") return sse(fx.gated(dir));
      if (url.pathname === "/endless") return sse(fx.endless(dir));
      if (url.pathname === "/fails") return sse(fx.failsMidway(), { name: "fails" });
      if (url.pathname === "/early") {
        return sse(
          (async function* () {
            throw new InputError("prompt is empty");
          })(),
        );
      }
      if (url.pathname === "/input") {
        return sse(
          (async function* () {
            yield 1;
            throw new InputError("n must be positive");
          })(),
        );
      }
      return new Response("not found", { status: 404 });
    }),
});
afterAll(async () => {
  server.stop(true);
  await target.shutdown();
  rmSync(temp, { recursive: true, force: true });
});

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

/** Read SSE frames from a response body as they come. */
async function* frames(res: Response): AsyncGenerator<{ event?: string; data: unknown }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(":")) continue;
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      yield { event, data: data === undefined ? undefined : JSON.parse(data) };
    }
  }
}

async function all(path: string): Promise<{ event?: string; data: unknown }[]> {
  const res = await fetch(url(path));
  expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const out = [];
  for await (const f of frames(res)) out.push(f);
  return out;
}

test("each chunk is one data event, then event: done with the count", async () => {
  const got = await all("/count");
  expect(got.map((f) => f.event ?? "data")).toEqual(["data", "data", "data", "done"]);
  expect((got[2]!.data as { i: number }).i).toBe(3);
  expect(got[3]!.data).toEqual({ chunks: 3 });
}, 60_000);

test("an event reaches the client while the generator still runs", async () => {
  const dir = join(temp, "gated");
  mkdirSync(dir);
  const res = await fetch(url(`/gated?dir=${encodeURIComponent(dir)}`));
  const it = frames(res);
  expect((await it.next()).value).toEqual({ event: undefined, data: "first" });
  expect(existsSync(join(dir, "finished"))).toBe(false);
  writeFileSync(join(dir, "open"), "");
  expect((await it.next()).value).toEqual({ event: undefined, data: "second" });
  expect((await it.next()).value).toEqual({ event: "done", data: { chunks: 2 } });
}, 60_000);

test("a failure midway is an error event with a generic message and a request id, after the chunks before it", async () => {
  const got = await all("/fails");
  expect(got.slice(0, 2).map((f) => f.data)).toEqual([1, 2]);
  const last = got[2]!;
  expect(last.event).toBe("error");
  const body = last.data as { error: string; message: string; request_id: string };
  expect(body.error).toBe("internal_error");
  expect(body.message).not.toContain("broke after two chunks");
  expect(body.message).toContain(body.request_id);
  expect(got).toHaveLength(3);
  // An input error keeps its message, as a route's 400 does.
  const input = await all("/input");
  expect(input[1]).toEqual({ event: "error", data: { error: "bad_request", message: "n must be positive" } });
}, 60_000);

test("a failure before the first value is a plain HTTP error, not a stream", async () => {
  const res = await fetch(url("/early"));
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(await res.json()).toEqual({ error: "bad_request", message: "prompt is empty" });
}, 60_000);

test("a client that hangs up stops the remote generator in its worker", async () => {
  const dir = join(temp, "endless");
  mkdirSync(dir);
  const controller = new AbortController();
  const res = await fetch(url(`/endless?dir=${encodeURIComponent(dir)}`), { signal: controller.signal });
  const it = frames(res);
  expect((await it.next()).value?.data).toBe(0);
  expect((await it.next()).value?.data).toBe(1);
  controller.abort();
  await until(() => existsSync(join(dir, "closed")), "the generator's finally after the client left", 20_000);
}, 60_000);
