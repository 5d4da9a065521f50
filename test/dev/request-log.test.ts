/** `flash run` for people: one log line per request (off with --quiet), and the next free port when the default is busy. */
import { afterAll, describe, expect, test } from "bun:test";
import { makeWorkspace, removeDir, runFlash, startFlash, workerSource } from "../helpers/workspace";

const ws = makeWorkspace({ "01_basics/01_hello/gpu_worker.ts": workerSource("gpu") }, "flash-reqlog-");
afterAll(() => removeDir(ws));

/** Wait until the output has a line matching `pattern` (the log is written as the request is answered). */
async function line(output: () => string, pattern: RegExp): Promise<string> {
  for (;;) {
    const m = output().match(pattern);
    if (m) return m[0];
    await Bun.sleep(10);
  }
}

describe("flash run", () => {
  test("logs one line per request: method, path, status and milliseconds; --quiet turns it off", async () => {
    const flash = await startFlash(ws);
    try {
      await fetch(`${flash.url}/01_basics/01_hello/gpu/hello`);
      await fetch(`${flash.url}/nope`, { method: "POST" });
      expect(await line(flash.output, /GET \/01_basics\/01_hello\/gpu\/hello 200 \d+ ms/)).toBeTruthy();
      expect(await line(flash.output, /POST \/nope 404 \d+ ms/)).toBeTruthy();
    } finally {
      await flash.stop();
    }
    const quiet = await startFlash(ws, ["--quiet"]);
    try {
      expect((await fetch(`${quiet.url}/01_basics/01_hello/gpu/hello`)).status).toBe(200);
      expect(await quiet.stop()).toBe(0);
      expect(quiet.output()).not.toContain("/01_basics/01_hello/gpu/hello 200");
    } finally {
      await quiet.stop();
    }
  }, 60_000);

  test("a busy default port moves to the next free one; a busy port that was asked for is an error", async () => {
    // Hold the default port (8888) for the test; when something else already holds it, it is busy all the same.
    let blocker: ReturnType<typeof Bun.serve> | undefined;
    try {
      blocker = Bun.serve({ port: 8888, hostname: "localhost", fetch: () => new Response("taken") });
    } catch {
      blocker = undefined;
    }
    try {
      const moved = await startFlash(ws, [], {}, { autoPort: false });
      try {
        expect(new URL(moved.url).port).not.toBe("8888");
        expect(moved.output()).toContain("port 8888 is in use: serving on");
        expect((await fetch(`${moved.url}/01_basics/01_hello/gpu/hello`)).status).toBe(200);
      } finally {
        await moved.stop();
      }
      const asked = runFlash(ws, ["run", "--port", "8888"]);
      expect(asked.code).toBe(1);
      expect(asked.out).toContain("cannot listen on localhost:8888");
    } finally {
      blocker?.stop(true);
    }
  }, 60_000);
});
