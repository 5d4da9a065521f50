/**
 * The worker program's own rules: what job input it accepts, how a bundle lands on disk (with the sources of the
 * modules it inlines), remote functions spread over several modules of one bundle, apt checks, and the
 * LB HTTP mode, run as a real subprocess.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTarget } from "../../core/remote/target";
import { LocalTarget } from "../../core/remote/local/local-target";
import { Bundler } from "../../core/runpod/bundle";
import { ensureSystemDependencies } from "../../worker/deps";
import { materialize } from "../../worker/main";
import { FIXTURE_WS, startHarness, until, type Harness } from "../fixtures/runpod/harness";
import { freePorts } from "../helpers/workspace";

const tmp = mkdtempSync(join(tmpdir(), "flash-worker-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("bundles on disk", () => {
  test("the entry lands at its workspace path and the inlined modules' sources beside it", async () => {
    const bundle = await new Bundler(FIXTURE_WS).bundle(join(FIXTURE_WS, "01_demo/01_basic/pipeline.ts"));
    expect(bundle.path).toBe("01_demo/01_basic/pipeline.ts");
    expect(bundle.code).not.toContain("core/remote"); // flash itself is never inlined
    const file = materialize(tmp, bundle);
    expect(file).toBe(join(tmp, "bundles", bundle.hash, "01_demo/01_basic/pipeline.ts.bundle.js"));
    expect(readFileSync(file, "utf8")).toBe(bundle.code);
    const dir = join(tmp, "bundles", bundle.hash, "01_demo/01_basic");
    expect(readFileSync(join(dir, "shared_fns.ts"), "utf8")).toContain("export const twice");
    expect(readFileSync(join(dir, "pipeline.ts"), "utf8")).toContain("export const pipeline = remote(");
    expect(materialize(tmp, bundle)).toBe(file); // idempotent
  });

  test("an untouched module is served from cache; editing any inlined file gives a new bundle", async () => {
    const ws = join(tmp, "ws-edit");
    cpSync(FIXTURE_WS, ws, { recursive: true });
    const b = new Bundler(ws);
    const entry = join(ws, "01_demo/01_basic/pipeline.ts");
    const first = await b.bundle(entry);
    expect((await b.bundle(entry)).hash).toBe(first.hash);
    expect(b.builds).toBe(1);
    const helper = join(ws, "01_demo/01_basic/shared_fns.ts");
    writeFileSync(helper, readFileSync(helper, "utf8").replace("n * 2", "n * 3"));
    utimesSync(helper, new Date(), new Date(Date.now() + 5000)); // a distinct mtime even on coarse clocks
    const edited = await b.bundle(entry);
    expect(edited.hash).not.toBe(first.hash);
    expect(edited.code).toContain("n * 3");
    expect(b.builds).toBe(2);
  });

  test("apt packages already installed are only checked", async () => {
    if (!Bun.which("dpkg")) return; // not a Debian-family machine: nothing to check against
    expect(await ensureSystemDependencies(["coreutils"])).toEqual([]);
  });
});

describe("remote functions across modules of one bundle", () => {
  let h: Harness;
  beforeAll(() => {
    h = startHarness();
    setTarget(h.target);
  });
  afterAll(async () => {
    setTarget(new LocalTarget());
    await h.stop();
  });

  test("ids stay per module: the importing module and the imported one each find their own functions", async () => {
    const pipeline = await import(join(h.root, "01_demo/01_basic/pipeline.ts"));
    const shared = await import(join(h.root, "01_demo/01_basic/shared_fns.ts"));
    expect(await pipeline.pipeline(5)).toEqual({ doubled: 10, negated: -5 });
    expect(await shared.twice(4)).toBe(8);
    expect(await shared.negate(4)).toBe(-4);
    expect(existsSync(join(h.tmp, "cache", "plain", "bundles"))).toBe(true);
  }, 20_000);
});

describe("load-balancer mode", () => {
  test("PORT alone does not make an LB worker (the mode is FLASH_WORKER_MODE, which flash's templates set)", async () => {
    const [port] = freePorts(1);
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: String(port),
      FLASH_WORKER_MODE: undefined,
    };
    delete env.RUNPOD_WEBHOOK_GET_JOB;
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env,
      cwd: tmp,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(2); // local mode with nothing to run, as runpod-python's worker
    expect(await new Response(proc.stderr).text()).toContain("nothing to do");
  }, 20_000);

  test("serves /ping (also on PORT_HEALTH), /execute and, after a shipped call, the function's own route", async () => {
    const [port, healthPort] = freePorts(2);
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: {
        ...process.env,
        FLASH_WORKER_MODE: "lb",
        PORT: String(port),
        PORT_HEALTH: String(healthPort),
        RUNPOD_POD_ID: "lbtest",
        FLASH_WORKER_CACHE: join(tmp, "lb-cache"),
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10_000;
      let ping: Response | undefined;
      while (Date.now() < deadline) {
        ping = await fetch(`${base}/ping`).catch(() => undefined);
        if (ping) break;
        await Bun.sleep(50);
      }
      expect(ping?.status).toBe(200);
      expect(await ping!.json()).toEqual({ status: "healthy" });
      // The health check goes to PORT_HEALTH when it differs (docs serverless/load-balancing/overview).
      expect((await fetch(`http://127.0.0.1:${healthPort}/ping`)).status).toBe(200);
      const bundle = await new Bundler(FIXTURE_WS).bundle(join(FIXTURE_WS, "01_demo/01_basic/compute_lb.ts"));
      const shipped = {
        flash: 1,
        bundle,
        request: { module: bundle.path, id: "0", name: "compute", executionType: "function", args: [[1, 2]] },
      };
      const viaRoute = await fetch(`${base}/compute`, { method: "POST", body: JSON.stringify(shipped) });
      expect(await viaRoute.json()).toMatchObject({ success: true, result: { sum: 3, count: 2 } });
      // A later call names the bundle by hash only; a hash the worker never saw is answered `missing`.
      const { code: _code, ...byHash } = bundle;
      const again = await fetch(`${base}/execute`, {
        method: "POST",
        body: JSON.stringify({ ...shipped, bundle: byHash }),
      });
      expect(await again.json()).toMatchObject({ success: true, result: { sum: 3, count: 2 } });
      const unknown = { ...shipped, bundle: { ...byHash, hash: "ffffffffffffffff" } };
      const miss = await fetch(`${base}/execute`, { method: "POST", body: JSON.stringify(unknown) });
      expect(await miss.json()).toMatchObject({ success: false, missing: ["bundle"], error: { name: "CodeMissing" } });
      const plain = await fetch(`${base}/compute`, { method: "POST", body: JSON.stringify([10, 20, 30]) });
      expect(await plain.json()).toEqual({ sum: 60, count: 3 });
      const execute = await fetch(`${base}/execute`, { method: "POST", body: JSON.stringify({ input: shipped }) });
      expect((await execute.json()).result).toEqual({ sum: 3, count: 2 });
      expect((await fetch(`${base}/unknown`, { method: "POST", body: "{}" })).status).toBe(404);
    } finally {
      proc.kill();
      await proc.exited;
    }
  }, 20_000);
});

/**
 * A minimal stand-in for Runpod's worker routes: the given jobs to take (job-take hands one, job-take-batch up to
 * `batch_size`), then none; records the takes, pings and results.
 */
function miniPlatform(job: { id: string; input: unknown } | { id: string; input: unknown }[]) {
  const pings: { at: number; jobId: string | null }[] = [];
  const done: { at: number; body: any; url: URL }[] = [];
  const streamed: { at: number; body: any; url: URL }[] = [];
  const takes: URL[] = [];
  const queue = Array.isArray(job) ? [...job] : [job];
  const server = Bun.serve({
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname.includes("/job-take/") || url.pathname.includes("/job-take-batch/")) {
        takes.push(url);
        if (!queue.length) return new Response(null, { status: 204 });
        if (url.pathname.includes("/job-take/")) return Response.json(queue.shift());
        return Response.json(queue.splice(0, Number(url.searchParams.get("batch_size") ?? 1)));
      }
      if (url.pathname.includes("/ping/")) pings.push({ at: Date.now(), jobId: url.searchParams.get("job_id") });
      if (url.pathname.includes("/job-done/")) done.push({ at: Date.now(), body: JSON.parse(await req.text()), url });
      if (url.pathname.includes("/job-stream/"))
        streamed.push({ at: Date.now(), body: JSON.parse(await req.text()), url });
      if (url.pathname.includes("/job-stop/")) await Bun.sleep(1000);
      return new Response(null, { status: url.pathname.includes("/job-stop/") ? 204 : 200 });
    },
  });
  const base = `http://127.0.0.1:${server.port}/v2/ep`;
  const env = {
    FLASH_WORKER_MODE: "queue",
    RUNPOD_POD_ID: "w1",
    RUNPOD_AI_API_KEY: "worker-key",
    RUNPOD_PING_INTERVAL: "200",
    RUNPOD_WEBHOOK_GET_JOB: `${base}/job-take/$ID?gpu=CPU`,
    RUNPOD_WEBHOOK_POST_OUTPUT: `${base}/job-done/$RUNPOD_POD_ID/$ID?gpu=CPU`,
    RUNPOD_WEBHOOK_POST_STREAM: `${base}/job-stream/$RUNPOD_POD_ID/$ID?gpu=CPU`,
    RUNPOD_WEBHOOK_PING: `${base}/ping/$RUNPOD_POD_ID?gpu=CPU`,
  };
  return { server, env, pings, done, streamed, takes };
}

/** A one-function bundle (its hash is its content's, as the worker checks). */
function inlineCall(source: string, args: unknown[]) {
  const hash = new Bun.CryptoHasher("sha256").update(source).digest("hex").slice(0, 16);
  return {
    flash: 1,
    bundle: { path: "01_a/01_b/inline.ts", hash, code: source },
    request: { module: "01_a/01_b/inline.ts", id: "0", name: "f", executionType: "function", args },
  };
}

describe("worker protocol", () => {
  test("the heartbeat starts at once and keeps going while a function blocks the event loop", async () => {
    // The function blocks its event loop (a synchronous loop) until the test opens the gate, which it does only
    // once the platform has had two pings naming the job: pings that could only come from another thread.
    const gate = join(mkdtempSync(join(tmp, "hb-gate-")), "open");
    const spin = inlineCall(
      `import { existsSync } from "node:fs";\nimport { remote, CpuLiveServerless } from "flash";\n` +
        `export const f = remote(new CpuLiveServerless({ name: "spin" }), async (gate) => { while (!existsSync(gate)) {} return "spun"; });\n`,
      [gate],
    );
    const p = miniPlatform({ id: "job-spin", input: spin });
    const started = Date.now();
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: { ...process.env, ...p.env, FLASH_WORKER_CACHE: join(tmp, "hb-cache") },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await until(() => p.pings.filter((x) => x.jobId === "job-spin").length >= 2, 30_000, "two pings during the job");
      expect(p.done).toHaveLength(0); // still blocked in the function
      writeFileSync(gate, "");
      await until(() => p.done.length > 0, 30_000, "job-done");
      expect(p.done[0]!.body.output).toMatchObject({ success: true, result: "spun" });
      expect(p.pings[0]!.at - started).toBeLessThan(10_000); // the first ping does not wait an interval
    } finally {
      proc.kill("SIGKILL"); // a worker still blocked in the loop cannot run a SIGTERM handler
      await proc.exited;
      p.server.stop(true);
    }
  }, 60_000);

  test("SIGTERM lets the job in flight finish and post its result, then the worker exits", async () => {
    const nap = inlineCall(
      `import { remote, CpuLiveServerless } from "flash";\n` +
        `export const f = remote(new CpuLiveServerless({ name: "nap" }), async (ms) => { await Bun.sleep(ms); return "rested"; });\n`,
      [1500],
    );
    const p = miniPlatform({ id: "job-nap", input: nap });
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: { ...process.env, ...p.env, FLASH_WORKER_CACHE: join(tmp, "term-cache") },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await until(() => p.pings.some((x) => x.jobId === "job-nap"), 30_000, "the job to start");
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(p.done).toHaveLength(1);
      expect(p.done[0]!.body.output).toMatchObject({ success: true, result: "rested" });
    } finally {
      proc.kill();
      p.server.stop(true);
    }
  }, 60_000);

  test("a generator posts each chunk to job-stream as {output} (isStream=false), then job-done with isStream=true", async () => {
    const gen = inlineCall(
      `import { remote, CpuLiveServerless } from "flash";\n` +
        `export const f = remote(new CpuLiveServerless({ name: "gen" }), async function* (n) { for (let i = 1; i <= n; i++) { yield { i }; await Bun.sleep(30); } });\n`,
      [3],
    );
    const p = miniPlatform({ id: "job-gen", input: { ...gen, request: { ...gen.request, stream: true } } });
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: { ...process.env, ...p.env, FLASH_WORKER_CACHE: join(tmp, "gen-cache") },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await until(() => p.done.length > 0, 30_000, "job-done");
      // runpod-python rp_http.py: stream_result → JOB_STREAM_URL ($RUNPOD_POD_ID, $ID filled) + &isStream=false.
      expect(p.streamed.map((x) => x.body)).toEqual([{ output: { i: 1 } }, { output: { i: 2 } }, { output: { i: 3 } }]);
      for (const x of p.streamed) {
        expect(x.url.pathname).toBe("/v2/ep/job-stream/w1/job-gen");
        expect(x.url.searchParams.get("isStream")).toBe("false");
        expect(x.at).toBeLessThanOrEqual(p.done[0]!.at);
      }
      expect(p.done[0]!.url.searchParams.get("isStream")).toBe("true");
      expect(p.done[0]!.body.output).toMatchObject({ success: true, result: null, chunks: 3 });
    } finally {
      proc.kill();
      await proc.exited;
      p.server.stop(true);
    }
  }, 60_000);

  test("with FLASH_MAX_CONCURRENCY 3 the worker takes three jobs from job-take-batch and runs them at once", async () => {
    // Each job says it started, then waits for a gate the test opens only once all three started: one job at a
    // time would never get there.
    const dir = mkdtempSync(join(tmp, "conc-"));
    const source =
      `import { existsSync, writeFileSync } from "node:fs";\nimport { remote, CpuLiveServerless } from "flash";\n` +
      `export const f = remote(new CpuLiveServerless({ name: "io" }), async (dir, i) => { writeFileSync(dir + "/started-" + i, ""); while (!existsSync(dir + "/gate")) await Bun.sleep(10); return i; });\n`;
    const jobs = [1, 2, 3].map((i) => ({ id: `job-${i}`, input: inlineCall(source, [dir, i]) }));
    const p = miniPlatform(jobs);
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: { ...process.env, ...p.env, FLASH_MAX_CONCURRENCY: "3", FLASH_WORKER_CACHE: join(tmp, "conc-cache") },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await until(() => [1, 2, 3].every((i) => existsSync(join(dir, `started-${i}`))), 30_000, "three jobs running");
      expect(p.done).toHaveLength(0);
      writeFileSync(join(dir, "gate"), "");
      await until(() => p.done.length === 3, 30_000, "three job-done posts");
      expect(p.done.map((d) => d.body.output.result).sort()).toEqual([1, 2, 3]);
      const batch = p.takes.find((u) => u.pathname.includes("/job-take-batch/"))!;
      expect(batch.pathname).toBe("/v2/ep/job-take-batch/w1");
      expect(batch.searchParams.get("batch_size")).toBe("3");
      expect(p.takes.some((u) => u.pathname.includes("/job-take/"))).toBe(false);
    } finally {
      proc.kill();
      await proc.exited;
      p.server.stop(true);
    }
  }, 60_000);

  test("a yield over Runpod's 1 MB streamed-chunk limit fails the call with a clear error; smaller chunks went out", async () => {
    const gen = inlineCall(
      `import { remote, CpuLiveServerless } from "flash";\n` +
        `export const f = remote(new CpuLiveServerless({ name: "big" }), async function* () { yield { i: 1 }; yield "x".repeat(1_200_000); yield { i: 3 }; });\n`,
      [],
    );
    const p = miniPlatform({ id: "job-big", input: { ...gen, request: { ...gen.request, stream: true } } });
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: { ...process.env, ...p.env, FLASH_WORKER_CACHE: join(tmp, "big-cache") },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await until(() => p.done.length > 0, 30_000, "job-done");
      expect(p.streamed.map((x) => x.body)).toEqual([{ output: { i: 1 } }]);
      expect(JSON.stringify(p.done[0]!.body)).toContain("over Runpod's 1 MB per streamed chunk");
    } finally {
      proc.kill();
      await proc.exited;
      p.server.stop(true);
    }
  }, 60_000);

  test("a failed call FAILS the job with runpod-python's error JSON, the flash response inside", async () => {
    const boom = inlineCall(
      `import { remote, CpuLiveServerless } from "flash";\n` +
        `export const f = remote(new CpuLiveServerless({ name: "boom" }), async () => { console.log("before"); throw new RangeError("too far"); });\n`,
      [],
    );
    const p = miniPlatform({ id: "job-boom", input: boom });
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../worker/main.ts")], {
      env: { ...process.env, ...p.env, FLASH_WORKER_CACHE: join(tmp, "fail-cache") },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await until(() => p.done.length > 0, 30_000, "job-done");
      const body = p.done[0]!.body;
      expect(body.output).toBeUndefined();
      const error = JSON.parse(body.error);
      expect(error).toMatchObject({ error_type: "RangeError", error_message: "too far", worker_id: "w1" });
      expect(error.flash).toMatchObject({ success: false, error: { name: "RangeError" }, stdout: "before" });
    } finally {
      proc.kill();
      await proc.exited;
      p.server.stop(true);
    }
  }, 60_000);
});
