// An all-day dev server: `flash run` as a user runs it, attacked the way a curious newcomer would. No request, crash,
// disconnect or Ctrl+C takes it down or leaves a worker behind; bad input gets a short 4xx; reloads recycle only the
// pools whose code changed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, childProcesses, until } from "../fixtures/remote/helpers";
import { FIXTURE_PKG, FIXTURE_WS } from "../fixtures/runpod/harness";
import {
  collectOutput,
  makeWorkspace,
  postJson,
  REPO,
  removeDir,
  startFlash,
  type FlashProcess,
} from "../helpers/workspace";

/** A chaos example: the same functions on a thread pool (cpu) and a process pool (gpu), one worker each. */
function chaosWorker(type: "cpu" | "gpu"): string {
  const config =
    type === "cpu"
      ? `new CpuLiveServerless({ name: "chaos_cpu", workersMax: 1, isolate: false })`
      : `new LiveServerless({ name: "chaos_gpu", workersMax: 1 })`;
  return `import { CpuLiveServerless, Elysia, LiveServerless, remote, t } from "flash";
const config = ${config};
export const timerCrash = remote(config, async () => {
  setTimeout(() => { throw new Error("uncaught later"); }, 30);
  return "returned";
});
export const sleepFor = remote(config, async (ms: number) => { await Bun.sleep(ms); return { slept: ms, pid: process.pid }; });
export const spin = remote(config, async () => { for (;;) {} });
export const pidOf = remote(config, async () => process.pid);
export const ${type}_router = new Elysia()
  .post("/timer-crash", () => timerCrash())
  .get("/sleep/:ms", ({ params }) => sleepFor(Number(params.ms)))
  .get("/spin", () => spin())
  .get("/pid", () => pidOf())
  .post("/hello", ({ body }) => ({ hello: body.name }), { body: t.Object({ name: t.String({ default: "you" }) }) })
  .post("/name", ({ body }) => ({ name: body.name }), { body: t.Object({ name: t.String({ maxLength: 10 }) }) });
`;
}

const OTHER = `import { Elysia, LiveServerless, remote } from "flash";
const config = new LiveServerless({ name: "other_gpu", workersMin: 1, workersMax: 1 });
export const pidOf = remote(config, async () => process.pid);
export const gpu_router = new Elysia().get("/pid", () => pidOf());
`;

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Every live process below `pid` (children, their children…), with its command line. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const out = childProcesses(pid);
  for (let i = 0; i < out.length; i++) out.push(...childProcesses(out[i]!.pid));
  return out;
}

async function pools(url: string): Promise<Record<string, any>> {
  const health = await (await fetch(`${url}/health`)).json();
  return Object.fromEntries((health.local?.pools ?? []).map((p: any) => [p.name, p]));
}

describe("one server, attacked", () => {
  let ws: string;
  let flash: FlashProcess;
  beforeAll(async () => {
    ws = makeWorkspace({
      "01_cat/01_chaos/cpu_worker.ts": chaosWorker("cpu"),
      "01_cat/01_chaos/gpu_worker.ts": chaosWorker("gpu"),
      "01_cat/02_other/gpu_worker.ts": OTHER,
    });
    flash = await startFlash(ws, ["--watch", "--max-body", "1MiB"]);
  }, 30_000);
  afterAll(async () => {
    expect(await flash.stop()).toBe(0);
    removeDir(ws);
  }, 30_000);
  const url = (path: string) => `${flash.url}/01_cat/01_chaos${path}`;

  test("a body over --max-body is a 413 with a JSON message naming the limit and how to raise it", async () => {
    const body = JSON.stringify({ name: "a".repeat(2 * 1024 * 1024) });
    const res = await fetch(url("/cpu/name"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    const problem = await json(res);
    expect(problem.error).toBe("payload_too_large");
    expect(problem.message).toContain("1.0 MiB");
    expect(problem.message).toContain("--max-body");
    expect((await fetch(`${flash.url}/health`)).status).toBe(200);
  });

  test("a 422 echoes at most a short preview of a large invalid value", async () => {
    const body = JSON.stringify({ name: "b".repeat(500_000) });
    const res = await fetch(url("/cpu/name"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(text.length).toBeLessThan(2_000);
    expect(JSON.parse(text).detail[0].input).toContain("(500000 characters)");
  });

  test("a route whose fields all have defaults refuses text/plain (415), null and arrays (422)", async () => {
    const post = (body: string | undefined, type?: string) =>
      fetch(url("/cpu/hello"), { method: "POST", headers: type ? { "content-type": type } : {}, body });
    const text = await post('{"name":"x"}', "text/plain");
    expect(text.status).toBe(415);
    expect((await json(text)).message).toContain("application/json");
    for (const body of ["null", "[1,2]", '"hi"']) {
      const res = await post(body, "application/json");
      expect(res.status).toBe(422);
      expect((await json(res)).detail[0].loc).toEqual(["body"]);
    }
    expect((await post("<a/>", "application/xml")).status).toBe(415);
    expect(await json(await post(undefined))).toEqual({ hello: "you" }); // no body at all: the defaults
    const ok = await post("{}", "application/json");
    expect(await json(ok)).toEqual({ hello: "you" });
  });

  test("JSON nested 10,000 deep is a 400, not a 500", async () => {
    const deep = `{"name":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    const res = await fetch(url("/cpu/hello"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: deep,
    });
    expect(res.status).toBe(400);
    expect((await json(res)).message).toContain("levels deep");
  });

  test("a known path asked with the wrong method is a 405 with Allow", async () => {
    const res = await fetch(url("/cpu/hello"), { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    const params = await fetch(url("/gpu/sleep/5"), { method: "DELETE" });
    expect(params.status).toBe(405);
    expect(params.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(url("/cpu/nope"))).status).toBe(404);
  });

  for (const type of ["cpu", "gpu"] as const) {
    test(`F9 (${type === "cpu" ? "thread" : "process"} workers): an error thrown after a call returned fails no later call`, async () => {
      const first = await fetch(url(`/${type}/timer-crash`), { method: "POST" });
      expect(first.status).toBe(200);
      const next = await fetch(url(`/${type}/sleep/300`));
      expect(next.status).toBe(200);
      await until(() => flash.output().includes("left over from timerCrash"), "the fault logged with its origin");
      expect((await fetch(url(`/${type}/sleep/1`))).status).toBe(200);
    }, 30_000);
  }

  test("a client that goes away cancels its running and its queued calls", async () => {
    const pid = await json(await fetch(url("/gpu/pid")));
    expect(alive(pid)).toBe(true);
    const gpu = async () => (await pools(flash.url)).chaos_gpu;
    const spinClient = new AbortController();
    const spinning = fetch(url("/gpu/spin"), { signal: spinClient.signal }).catch(() => "aborted");
    await until(async () => (await gpu()).workers.busy === 1, "the spin call running");
    const queuedClient = new AbortController();
    const queued = fetch(url("/gpu/sleep/10"), { signal: queuedClient.signal }).catch(() => "aborted");
    await until(async () => (await gpu()).queue === 1, "the second call queued behind it");
    queuedClient.abort();
    expect(await queued).toBe("aborted");
    // The queued call leaves the queue while the worker still spins: it never runs.
    await until(async () => (await gpu()).queue === 0, "the queued call dropped");
    expect((await gpu()).workers.busy).toBe(1);
    spinClient.abort();
    expect(await spinning).toBe("aborted");
    await until(() => !alive(pid), "the spinning worker stopped");
    const p = await gpu();
    expect(p.queue).toBe(0);
    expect(p.workers.busy).toBe(0);
    expect((await fetch(url("/gpu/sleep/1"))).status).toBe(200);
  }, 30_000);

  test("a save recycles only the pools whose modules changed; data files do not reload", async () => {
    const other = await json(await fetch(`${flash.url}/01_cat/02_other/gpu/pid`));
    const chaos = await json(await fetch(url("/gpu/pid")));
    const reloads = () => flash.output().match(/reload #\d+/g)?.length ?? 0;
    const before = reloads();
    writeFileSync(join(ws, "01_cat/02_other/speech.wav"), "RIFF not code");
    writeFileSync(join(ws, "01_cat/01_chaos/notes.md"), "# notes");
    // Saved after the data files, the edit's reload comes after any reload they caused: exactly one, naming only it.
    const logged = flash.output().length;
    writeFileSync(join(ws, "01_cat/01_chaos/gpu_worker.ts"), `${chaosWorker("gpu")}// edited\n`);
    await until(() => reloads() > before, "the edit reloaded");
    expect(reloads()).toBe(before + 1);
    const line = flash
      .output()
      .slice(logged)
      .match(/reload #\d+: [^\n]*/)![0];
    expect(line).toContain("gpu_worker.ts");
    expect(line).not.toMatch(/speech\.wav|notes\.md/);
    expect(await json(await fetch(`${flash.url}/01_cat/02_other/gpu/pid`))).toBe(other);
    expect(alive(other)).toBe(true);
    expect(await json(await fetch(url("/gpu/pid")))).toBe(chaos); // warm: it re-imported the edit in place
  }, 30_000);

  test("deleting an example stops its pool and its workers", async () => {
    const other = await json(await fetch(`${flash.url}/01_cat/02_other/gpu/pid`));
    expect((await pools(flash.url)).other_gpu).toBeDefined();
    rmSync(join(ws, "01_cat/02_other"), { recursive: true });
    await until(() => !alive(other), "the deleted example's worker stopped");
    expect((await pools(flash.url)).other_gpu).toBeUndefined();
    expect((await fetch(url("/gpu/sleep/1"))).status).toBe(200);
  }, 30_000);
});

describe("models stay warm across edits", () => {
  /** A module that "loads a model" once (its state), and a worker whose answer uses it. */
  const model = (tag: string) => `export const model = { tag: ${JSON.stringify(tag)}, loadedAt: performance.now() };\n`;
  const worker = (
    type: "cpu" | "gpu",
    version: string,
  ) => `import { CpuLiveServerless, Elysia, LiveServerless, remote } from "flash";
import { model } from "./model";
const config = ${type === "cpu" ? `new CpuLiveServerless({ name: "warm_cpu" })` : `new LiveServerless({ name: "warm_gpu" })`};
export const answer = remote(config, async () => ({ version: ${JSON.stringify(version)}, model, pid: process.pid }));
export const ${type}_router = new Elysia().get("/answer", () => answer());
`;
  let ws: string;
  let flash: FlashProcess;
  beforeAll(async () => {
    ws = makeWorkspace({
      "01_cat/01_warm/model.ts": model("m1"),
      "01_cat/01_warm/cpu_worker.ts": worker("cpu", "v1"),
      "01_cat/01_warm/gpu_worker.ts": worker("gpu", "v1"),
    });
    flash = await startFlash(ws, ["--watch"]);
  }, 30_000);
  afterAll(async () => {
    expect(await flash.stop()).toBe(0);
    removeDir(ws);
  }, 30_000);

  async function answerAfterSave(type: string, check: (b: any) => boolean): Promise<any> {
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const body = await json(await fetch(`${flash.url}/01_cat/01_warm/${type}/answer`));
      if (check(body)) return body;
      await Bun.sleep(5);
    }
    throw new Error(`no answer passed the check for ${type}`);
  }

  for (const type of ["cpu", "gpu"] as const) {
    test(`${type === "cpu" ? "thread" : "process"} workers: editing the route keeps the model; editing the model reloads it`, async () => {
      const first = await answerAfterSave(type, (b) => b.version === "v1");
      writeFileSync(join(ws, `01_cat/01_warm/${type}_worker.ts`), worker(type, "v2"));
      const second = await answerAfterSave(type, (b) => b.version === "v2");
      expect(second.model).toEqual(first.model); // the same module instance: not loaded again
      expect(second.pid).toBe(first.pid); // the same warm worker
      writeFileSync(join(ws, "01_cat/01_warm/model.ts"), model(`m2-${type}`));
      const third = await answerAfterSave(type, (b) => b.model.tag === `m2-${type}`);
      expect(third.version).toBe("v2");
      expect(third.model.loadedAt).not.toBe(first.model.loadedAt);
    }, 40_000);
  }
});

describe("workers never outlive the server, and ignore the terminal's Ctrl+C", () => {
  let ws: string;
  beforeAll(() => {
    ws = makeWorkspace({ "01_cat/01_chaos/gpu_worker.ts": chaosWorker("gpu") });
  });
  afterAll(() => removeDir(ws));

  test("Ctrl+C sent to the terminal's whole process group lets a process worker's call finish", async () => {
    // A terminal sends SIGINT to its foreground process group; `detached` gives flash a group of its own to receive it.
    const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "run", "--port", "0"], {
      cwd: ws,
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
    const out = collectOutput(proc);
    await until(() => /at (http:\/\/\S+)/.test(out()), "flash serving", 20_000);
    const base = out().match(/at (http:\/\/\S+)/)![1]!;
    const pid = await json(await fetch(`${base}/01_cat/01_chaos/gpu/pid`));
    const call = fetch(`${base}/01_cat/01_chaos/gpu/sleep/1000`);
    await until(async () => (await pools(base)).chaos_gpu.workers.busy === 1, "the call running");
    process.kill(-proc.pid, "SIGINT");
    const res = await call;
    expect(res.status).toBe(200);
    expect((await res.json()).slept).toBe(1000);
    expect(await proc.exited).toBe(0);
    await until(() => !alive(pid), "the worker stopped with the server");
    expect(out()).not.toContain("SIGINT); the pool replaced it");
  }, 40_000);

  test("a worker spinning in a call dies with a server killed by SIGKILL", async () => {
    const flash = await startFlash(ws);
    const pid = await json(await fetch(`${flash.url}/01_cat/01_chaos/gpu/pid`));
    void fetch(`${flash.url}/01_cat/01_chaos/gpu/spin`).catch(() => undefined);
    await until(async () => (await pools(flash.url)).chaos_gpu.workers.busy === 1, "the spin call running");
    flash.proc.kill("SIGKILL");
    await flash.proc.exited;
    await until(() => !alive(pid), "the orphaned worker gone", 10_000);
  }, 30_000);

  test("an emulated Runpod worker dies with a `flash run --target emulator` killed by SIGKILL", async () => {
    const own = mkdtempSync(join(tmpdir(), "flash-emulated-orphan-"));
    try {
      cpSync(FIXTURE_WS, join(own, "ws"), { recursive: true });
      const flash = await startFlash(join(own, "ws"), ["--target", "emulator"], {
        FLASH_FIXTURE_PKG: FIXTURE_PKG,
        FLASH_WORKER_CACHE: join(own, "cache"),
      });
      const res = await postJson(`${flash.url}/01_demo/01_basic/cpu/hello`, { name: "orphan" });
      expect(res.status).toBe(200);
      const workers = descendants(flash.proc.pid);
      expect(workers.some((p) => p.cmd.includes("flash-bootstrap"))).toBe(true);
      flash.proc.kill("SIGKILL");
      await flash.proc.exited;
      await until(() => workers.every((p) => !alive(p.pid)), "the emulated workers gone", 10_000);
    } finally {
      removeDir(own);
    }
  }, 30_000);
});

describe("settings that cannot work", () => {
  test("a .env that is a directory, or a bad --max-body, is a one-line error and exit 1", async () => {
    const ws = makeWorkspace({ "01_cat/01_chaos/gpu_worker.ts": chaosWorker("gpu") });
    try {
      const bad = Bun.spawnSync([process.execPath, join(REPO, "cli.ts"), "run", "--port", "0", "--max-body", "lots"], {
        cwd: ws,
        env: { ...process.env, NO_COLOR: "1" },
      });
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr.toString() + bad.stdout.toString()).toContain('Invalid body limit "lots"');
      Bun.spawnSync(["mkdir", join(ws, ".env")]);
      const dir = Bun.spawnSync([process.execPath, join(REPO, "cli.ts"), "run", "--port", "0"], {
        cwd: ws,
        env: { ...process.env, NO_COLOR: "1" },
      });
      const text = dir.stderr.toString() + dir.stdout.toString();
      expect(dir.exitCode).toBe(1);
      expect(text).toContain(".env");
      expect(text).toContain("is a directory");
      expect(text).not.toContain("    at ");
      // Every command that reads .env says the same, without a stack trace.
      for (const command of ["emulator", "build", "deploy"]) {
        const other = Bun.spawnSync([process.execPath, join(REPO, "cli.ts"), command], {
          cwd: ws,
          env: { ...process.env, NO_COLOR: "1" },
          timeout: 20_000,
        });
        const out = other.stderr.toString() + other.stdout.toString();
        expect({ command, code: other.exitCode }).toEqual({ command, code: 1 });
        expect(out).toContain("is a directory; .env must be a file");
        expect(out).not.toContain("    at ");
        expect(out).not.toContain("throw new Error");
      }
    } finally {
      removeDir(ws);
    }
  }, 30_000);

  test("a .env value over 128 KiB is reported by the pool (E2BIG, the variable named); the server stays up", async () => {
    const ws = makeWorkspace({
      "01_cat/01_chaos/gpu_worker.ts": chaosWorker("gpu"),
      ".env": `HUGE_SECRET_BLOB=${"x".repeat(200 * 1024)}\n`,
    });
    const flash = await startFlash(ws);
    let code: number | undefined;
    try {
      const res = await fetch(`${flash.url}/01_cat/01_chaos/gpu/pid`);
      expect(res.status).toBe(500);
      const body = await json(res);
      expect(body.message).not.toContain("HUGE_SECRET_BLOB"); // a 500 body names nothing internal: the log does
      // The log says why, naming the variable (never its value).
      await until(() => flash.output().includes("HUGE_SECRET_BLOB is 200 KiB"), "the spawn failure logged");
      expect(flash.output()).toContain("E2BIG");
      expect(flash.output()).not.toContain("x".repeat(1000));
      expect((await fetch(`${flash.url}/health`)).status).toBe(200);
      expect(flash.output()).toContain(`[request ${body.request_id}]`);
      expect(flash.output()).toContain("HUGE_SECRET_BLOB is 200 KiB");
    } finally {
      code = await flash.stop();
      removeDir(ws);
    }
    expect(code).toBe(0);
  }, 30_000);
});
