import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildApp, type UnifiedApp } from "../../core/app/app";
import { startServer, type FlashServer } from "../../core/dev/server";
import { isRelevantChange, watchWorkspace } from "../../core/dev/watch";
import { until } from "../fixtures/remote/helpers";
import { makeWorkspace, removeDir, startFlash, workerSource, writeFiles } from "../helpers/workspace";

const ws = makeWorkspace({
  "01_cat/01_one/cpu_worker.ts": workerSource("cpu", "v1"),
  "01_cat/02_deep/gpu_worker.ts": `import { Elysia } from "flash";
import { level1 } from "./lib/level1";
export const gpu_router = new Elysia().get("/deep", () => ({ value: level1() }));
`,
  "01_cat/02_deep/lib/level1.ts": `import { level2 } from "./level2";\nexport const level1 = () => "1+" + level2();\n`,
  "01_cat/02_deep/lib/level2.ts": `export const level2 = () => "deep-v1";\n`,
  "01_cat/03_stable/cpu_worker.ts": workerSource("cpu", "stable"),
});

let server: FlashServer;
let stop: () => void;
let reloads = 0;
let lastApp: UnifiedApp;
/** The changed paths of each reload, in order. */
const changes: string[][] = [];

beforeAll(async () => {
  lastApp = await buildApp({ root: ws });
  server = startServer(lastApp, "127.0.0.1", 0);
  stop = watchWorkspace({
    root: ws,
    scope: {},
    server,
    onReload: (app, changed) => {
      reloads++;
      lastApp = app;
      changes.push(changed);
    },
  });
});
afterAll(async () => {
  stop();
  await server.stop();
  removeDir(ws);
});

/** Poll `path` until `check` passes on the JSON (or status), or fail after `ms`. */
async function waitFor(path: string, check: (status: number, body: any) => boolean, ms = 8000): Promise<any> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await fetch(server.url + path);
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    last = { status: res.status, body };
    if (check(res.status, body)) return body;
    await Bun.sleep(15);
  }
  throw new Error(`timed out waiting on ${path}; last: ${JSON.stringify(last)}`);
}

const FLUSH = "01_cat/01_one/flush.ts";
let flushes = 0;

/**
 * Save a code file and wait for the reload that includes it: the watcher handles changes in order, so every change
 * saved before it has been handled by then. Returns the reloads from `since` (an index into `changes`) on.
 */
async function flush(since = changes.length): Promise<string[][]> {
  const from = changes.length;
  writeFileSync(join(ws, FLUSH), `export const flushed = ${++flushes};\n`);
  await until(() => changes.slice(from).some((c) => c.includes(FLUSH)), "the flush file's reload", 8000);
  return changes.slice(since);
}

describe("what a save changes", () => {
  test("an edit to a router file shows on the next request", async () => {
    writeFileSync(join(ws, "01_cat/01_one/cpu_worker.ts"), workerSource("cpu", "v2"));
    await waitFor("/01_cat/01_one/cpu/hello", (s, b) => b.reply === "v2");
  });

  test("an edit two imports deep shows too (transitive modules are purged)", async () => {
    writeFileSync(join(ws, "01_cat/02_deep/lib/level2.ts"), `export const level2 = () => "deep-v2";\n`);
    const body = await waitFor("/01_cat/02_deep/gpu/deep", (s, b) => b.value === "1+deep-v2");
    expect(body).toEqual({ value: "1+deep-v2" });
  });

  test("a new example is served, a renamed one moves, a deleted one is 404 and leaves /docs/json", async () => {
    writeFiles(ws, { "01_cat/04_new/cpu_worker.ts": workerSource("cpu", "new") });
    await waitFor("/01_cat/04_new/cpu/hello", (s, b) => b.reply === "new");
    renameSync(join(ws, "01_cat/04_new"), join(ws, "01_cat/05_renamed"));
    await waitFor("/01_cat/05_renamed/cpu/hello", (s, b) => b.reply === "new");
    await waitFor("/01_cat/04_new/cpu/hello", (s) => s === 404);
    rmSync(join(ws, "01_cat/05_renamed"), { recursive: true });
    await waitFor("/01_cat/05_renamed/cpu/hello", (s) => s === 404);
    const doc = await waitFor("/docs/json", (s, b) => !Object.keys(b.paths).some((p) => p.includes("05_renamed")));
    expect(Object.keys(doc.paths)).toContain("/01_cat/01_one/cpu/hello");
  });

  test("a new category folder is discovered", async () => {
    writeFiles(ws, { "09_brand_new/01_first/gpu_worker.ts": workerSource("gpu", "fresh category") });
    await waitFor("/09_brand_new/01_first/gpu/hello", (s, b) => b.reply === "fresh category");
  });
});

describe("broken saves", () => {
  test("a syntax error keeps the others serving, shows the error, and a fix recovers", async () => {
    const file = join(ws, "01_cat/01_one/cpu_worker.ts");
    writeFileSync(
      file,
      `import { Elysia } from "flash";\nexport const cpu_router = new Elysia(\n  .get("/hello", () => 1);\n`,
    );
    const health = await waitFor("/health", (s, b) => b.errors.length > 0);
    expect(health.errors[0].file).toBe(file);
    expect(health.errors[0].line).toBeGreaterThanOrEqual(2);
    expect((await (await fetch(`${server.url}/01_cat/03_stable/cpu/hello`)).json()).reply).toBe("stable");
    expect(await (await fetch(`${server.url}/`)).text()).toContain("01_one/cpu_worker.ts");
    writeFileSync(file, workerSource("cpu", "fixed"));
    await waitFor("/01_cat/01_one/cpu/hello", (s, b) => b.reply === "fixed");
    expect((await (await fetch(`${server.url}/health`)).json()).errors).toEqual([]);
  });

  test("a throwing import and a missing export are reported, then recovered", async () => {
    const file = join(ws, "01_cat/03_stable/cpu_worker.ts");
    writeFileSync(file, `throw new Error("boom on import");\n`);
    let health = await waitFor("/health", (s, b) => b.errors.some((e: any) => e.message === "boom on import"));
    expect(health.errors.find((e: any) => e.message === "boom on import").line).toBe(1);
    writeFileSync(file, `export const nothing = 1;\n`);
    health = await waitFor("/health", (s, b) =>
      b.errors.some((e: any) => e.message.includes('exports no "cpu_router"')),
    );
    writeFileSync(file, workerSource("cpu", "stable again"));
    await waitFor("/01_cat/03_stable/cpu/hello", (s, b) => b.reply === "stable again");
  });
});

describe("broken transitive import", () => {
  test("a module two levels down that throws is reported and recovers when fixed", async () => {
    const lib = join(ws, "01_cat/02_deep/lib/level2.ts");
    writeFileSync(lib, `export const level2 = () => "never";\nthrow new Error("level2 exploded");\n`);
    const health = await waitFor("/health", (s, b) => b.errors.some((e: any) => e.message === "level2 exploded"));
    const err = health.errors.find((e: any) => e.message === "level2 exploded");
    expect(err.file).toBe(lib);
    expect(err.line).toBe(2);
    writeFileSync(lib, `export const level2 = () => "deep-v3";\n`);
    await waitFor("/01_cat/02_deep/gpu/deep", (s, b) => b.value === "1+deep-v3");
  });
});

describe("debounce and filtering", () => {
  test("50 quick writes trigger one or two rebuilds", async () => {
    await flush();
    const before = changes.length;
    const file = join(ws, "01_cat/01_one/cpu_worker.ts");
    for (let i = 0; i < 50; i++) writeFileSync(file, workerSource("cpu", `burst-${i}`));
    await waitFor("/01_cat/01_one/cpu/hello", (s, b) => b.reply === "burst-49");
    const rebuilds = (await flush(before)).filter((c) => c.includes("01_cat/01_one/cpu_worker.ts")).length;
    expect(rebuilds).toBeGreaterThanOrEqual(1);
    expect(rebuilds).toBeLessThanOrEqual(2);
  });

  test("an atomic save (temp file then rename) triggers one rebuild", async () => {
    await flush();
    const before = changes.length;
    const tmp = join(ws, "01_cat/01_one/.cpu_worker.ts.tmp-123");
    writeFileSync(tmp, workerSource("cpu", "atomic"));
    renameSync(tmp, join(ws, "01_cat/01_one/cpu_worker.ts"));
    await waitFor("/01_cat/01_one/cpu/hello", (s, b) => b.reply === "atomic");
    const after = await flush(before);
    expect(after.filter((c) => c.includes("01_cat/01_one/cpu_worker.ts")).length).toBe(1);
    expect(after.flat().some((path) => path.includes(".tmp-123"))).toBe(false);
  });

  test("node_modules, dot-paths and editor temp files trigger nothing", async () => {
    await flush();
    const before = changes.length;
    writeFiles(ws, {
      "01_cat/01_one/node_modules/pkg/index.js": "module.exports = 1;",
      "01_cat/01_one/.cache/x.json": "{}",
      "01_cat/01_one/cpu_worker.ts~": "backup",
      "01_cat/01_one/.cpu_worker.ts.swp": "swap",
      "01_cat/01_one/4913": "vim probe",
    });
    expect(await flush(before)).toEqual([[FLUSH]]);
    expect(isRelevantChange("01_cat/01_one/cpu_worker.ts")).toBe(true);
    expect(isRelevantChange("01_cat/01_one/#cpu_worker.ts#")).toBe(false);
  });
});

describe("no request fails because of a reload", () => {
  test("concurrent requests across 30 reloads all succeed", async () => {
    await flush();
    const file = join(ws, "01_cat/01_one/cpu_worker.ts");
    let failures = 0;
    let ok = 0;
    let running = true;
    const client = async () => {
      while (running) {
        try {
          const res = await fetch(`${server.url}/01_cat/03_stable/cpu/hello`);
          if (res.status === 200) ok++;
          else failures++;
          await res.text();
        } catch {
          failures++;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    const start = reloads;
    for (let i = 0; i < 30; i++) {
      writeFileSync(file, workerSource("cpu", `load-${i}`));
      const target = start + i + 1;
      await until(() => reloads >= target, `reload ${i + 1} of 30`);
    }
    running = false;
    await Promise.all(clients);
    expect(reloads - start).toBeGreaterThanOrEqual(30);
    expect(failures).toBe(0);
    expect(ok).toBeGreaterThan(30);
  }, 60_000); // spawns servers and workers: slow on a loaded machine
});

describe("flash run --watch (subprocess)", () => {
  test("an edit to a module of remote() functions reaches the next call (the warm workers re-import it)", async () => {
    const remoteModule = (version: string) => `import { remote, CpuLiveServerless } from "flash";
const cfg = new CpuLiveServerless({ name: "01_01_cpu", workersMin: 1, workersMax: 2, idleTimeout: 30 });
export const which = remote(cfg, async () => ({ version: ${JSON.stringify(version)}, pid: process.pid }));
`;
    const own = makeWorkspace({
      "01_a/01_r/endpoint.ts": remoteModule("r1"),
      "01_a/01_r/cpu_worker.ts": `import { Elysia } from "flash";
import { which } from "./endpoint";
export const cpu_router = new Elysia().get("/which", () => which());
`,
    });
    const flash = await startFlash(own, ["--watch"]);
    let code: number | undefined;
    try {
      const first = await (await fetch(`${flash.url}/01_a/01_r/cpu/which`)).json();
      expect(first.version).toBe("r1");
      writeFileSync(join(own, "01_a/01_r/endpoint.ts"), remoteModule("r2"));
      let body: any = first;
      await until(async () => {
        body = await (await fetch(`${flash.url}/01_a/01_r/cpu/which`)).json();
        return body.version === "r2";
      }, "the edit reached the warm worker");
      expect(body.version).toBe("r2");
    } finally {
      code = await flash.stop();
      removeDir(own);
    }
    expect(code).toBe(0);
  }, 60_000); // spawns servers and workers: slow on a loaded machine

  test("logs one line per reload with counts and ms, and Ctrl+C exits 0", async () => {
    const own = makeWorkspace({ "01_a/01_b/cpu_worker.ts": workerSource("cpu", "a") });
    const flash = await startFlash(own, ["--watch"]);
    let code: number | undefined;
    try {
      await until(() => flash.output().includes("watching"), "the watcher started");
      writeFileSync(join(own, "01_a/01_b/cpu_worker.ts"), workerSource("cpu", "b"));
      await until(() => /reload #1/.test(flash.output()), "the reload line");
      expect(flash.output()).toMatch(/reload #1: 01_a\/01_b\/cpu_worker\.ts → 1 examples, 2 routes in [\d.]+ ms/);
      expect((await (await fetch(`${flash.url}/01_a/01_b/cpu/hello`)).json()).reply).toBe("b");
    } finally {
      code = await flash.stop();
      removeDir(own);
    }
    expect(code).toBe(0);
  }, 60_000); // spawns servers and workers: slow on a loaded machine
});

describe("incremental reloads", () => {
  test("an edit to one example re-imports that example only; a shared module outside examples reloads all", async () => {
    const counted = (name: string) => `import { Elysia } from "flash";
import { shared } from "../../lib/shared";
const g = globalThis as any;
g.__flashLoads ??= {};
g.__flashLoads[${JSON.stringify(name)}] = (g.__flashLoads[${JSON.stringify(name)}] ?? 0) + 1;
const loads = g.__flashLoads[${JSON.stringify(name)}];
export const cpu_router = new Elysia().get("/loads", () => ({ loads, shared: shared() }));
`;
    const own = makeWorkspace({
      "lib/shared.ts": `export const shared = () => "s1";\n`,
      "01_a/01_one/cpu_worker.ts": counted("one"),
      "01_a/02_two/cpu_worker.ts": counted("two"),
    });
    const s = startServer(await buildApp({ root: own }), "127.0.0.1", 0);
    let n = 0;
    const stopOwn = watchWorkspace({ root: own, scope: {}, server: s, onReload: () => n++ });
    const get = async (path: string) => (await fetch(s.url + path)).json() as Promise<any>;
    try {
      expect(await get("/01_a/02_two/cpu/loads")).toEqual({ loads: 1, shared: "s1" });
      writeFileSync(join(own, "01_a/01_one/cpu_worker.ts"), counted("one") + "// edited\n");
      await until(() => n >= 1, "the example's reload");
      expect((await get("/01_a/01_one/cpu/loads")).loads).toBe(2);
      expect((await get("/01_a/02_two/cpu/loads")).loads).toBe(1);
      writeFileSync(join(own, "lib/shared.ts"), `export const shared = () => "s2";\n`);
      await until(async () => (await get("/01_a/02_two/cpu/loads")).shared === "s2", "the shared module's reload");
      expect(await get("/01_a/02_two/cpu/loads")).toEqual({ loads: 2, shared: "s2" });
      expect((await get("/01_a/01_one/cpu/loads")).shared).toBe("s2");
    } finally {
      stopOwn();
      await s.stop();
      removeDir(own);
    }
  }, 60_000); // spawns servers and workers: slow on a loaded machine
});
