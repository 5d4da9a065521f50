import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp, type UnifiedApp } from "../../core/app/app";
import { startServer, type FlashServer } from "../../core/dev/server";
import { makeWorkspace, postJson, removeDir, workerSource } from "../helpers/workspace";

const ws = makeWorkspace({
  "01_getting_started/01_hello/gpu_worker.ts": workerSource("gpu", "from hello"),
  "01_getting_started/02_hooks/cpu_worker.ts": `import { Elysia, t } from "flash";
export const cpu_router = new Elysia()
  .onRequest(({ set }) => { set.headers["x-hooked"] = "02_hooks"; })
  .derive(() => ({ secretWord: "swordfish" }))
  .onError(({ error }) => { if ((error as Error).message === "handled-by-example") return { handled: "by 02_hooks" }; })
  .get("/word", ({ secretWord }) => ({ word: secretWord }))
  .get("/throw-handled", () => { throw new Error("handled-by-example"); })
  .get("/throw", () => { throw new Error("database password is hunter2\\nsecond line"); });
`,
  "01_getting_started/03_plain/cpu_worker.ts": `import { Elysia } from "flash";
export const cpu_router = new Elysia()
  .get("/word", (ctx) => ({ word: (ctx as any).secretWord ?? null }))
  .get("/throw-handled", () => { throw new Error("handled-by-example"); })
  .get("/bad-input", () => { const e = new Error("numbers must not be empty"); e.name = "InputError"; throw e; });
`,
  "01_getting_started/04_pipeline/workers/cpu/index.ts": workerSource("cpu", "pipeline cpu"),
  "01_getting_started/04_pipeline/main.ts": `import { Elysia, t } from "flash";
export const api_router = new Elysia().post("/classify", ({ body }) => ({ label: body.text.length > 3 ? "long" : "short" }), {
  body: t.Object({ text: t.String({ minLength: 1, error: "Text cannot be empty" }) }),
});
`,
  "02_broken/01_syntax/cpu_worker.ts":
    'import { Elysia } from "flash";\nexport const cpu_router = new Elysia(\n  .get("/x", () => 1);\n',
  "02_broken/02_throws/cpu_worker.ts": 'const ok = 1;\nthrow new Error("cannot start: model missing");\n',
  "02_broken/03_no_export/cpu_worker.ts": "export const wrong_name = 1;\n",
  "02_broken/04_missing_import/cpu_worker.ts": 'import { x } from "./does-not-exist";\nexport const cpu_router = x;\n',
  "03_later/01_same/gpu_worker.ts": workerSource("gpu", "still serving"),
});

let app: UnifiedApp;
let server: FlashServer;
beforeAll(async () => {
  app = await buildApp({ root: ws });
  server = startServer(app, "127.0.0.1", 0);
});
afterAll(async () => {
  await server.stop();
  removeDir(ws);
});

describe("routes of every example", () => {
  test("single-file router at /{category}/{example}/{type}", async () => {
    const res = await fetch(`${server.url}/01_getting_started/01_hello/gpu/hello`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reply: "from hello", type: "gpu" });
  });

  test("directory router and example-level api_router", async () => {
    expect(await (await fetch(`${server.url}/01_getting_started/04_pipeline/cpu/hello`)).json()).toEqual({
      reply: "pipeline cpu",
      type: "cpu",
    });
    const r = await postJson(`${server.url}/01_getting_started/04_pipeline/classify`, { text: "hello world" });
    expect(r).toEqual({ status: 200, body: { label: "long" } });
  });

  test("validation errors are 422 with the field and a readable message", async () => {
    const r = await postJson(`${server.url}/01_getting_started/01_hello/gpu/echo`, { text: 42 });
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("validation");
    expect(r.body.detail[0].loc).toEqual(["body", "text"]);
    expect(r.body.message).toContain("body.text");
    const custom = await postJson(`${server.url}/01_getting_started/04_pipeline/classify`, { text: "" });
    expect(custom.status).toBe(422);
    expect(custom.body.detail[0].msg).toBe("Text cannot be empty");
    const missing = await postJson(`${server.url}/01_getting_started/01_hello/gpu/echo`, {});
    expect(missing.status).toBe(422);
    expect(missing.body.detail[0].loc).toEqual(["body", "text"]);
  });

  test("a body that is not JSON is a 400, not a 500", async () => {
    const res = await fetch(`${server.url}/01_getting_started/01_hello/gpu/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("bad_request");
  });

  test("unknown routes are 404 JSON, inside and outside example prefixes", async () => {
    for (const path of ["/nope", "/01_getting_started/01_hello/gpu/nope", "/01_getting_started/99_none/gpu/x"]) {
      const res = await fetch(server.url + path);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "not_found", message: `No route for GET ${path}`, path });
    }
  });

  test("an internal error is a 500 with a generic message and a request id (the detail goes to the log only)", async () => {
    const res = await fetch(`${server.url}/01_getting_started/02_hooks/cpu/throw`);
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.error).toBe("internal_error");
    expect(body.request_id).toMatch(/^[0-9a-f]{12}$/);
    expect(res.headers.get("x-request-id")).toBe(body.request_id);
    expect(body.message).toBe(`Processing failed; the server log has the details under request ${body.request_id}`);
  });

  test("an input error thrown by a route is a 400 with its message", async () => {
    const res = await fetch(`${server.url}/01_getting_started/03_plain/cpu/bad-input`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "bad_request", message: "numbers must not be empty" });
  });
});

describe("isolation of example hooks", () => {
  test("onRequest and derive of one example do not run for another", async () => {
    const own = await fetch(`${server.url}/01_getting_started/02_hooks/cpu/word`);
    expect(own.headers.get("x-hooked")).toBe("02_hooks");
    expect(await own.json()).toEqual({ word: "swordfish" });
    const other = await fetch(`${server.url}/01_getting_started/03_plain/cpu/word`);
    expect(other.headers.get("x-hooked")).toBeNull();
    expect(await other.json()).toEqual({ word: null });
    const core = await fetch(`${server.url}/health`);
    expect(core.headers.get("x-hooked")).toBeNull();
  });

  test("onError of one example answers its own errors only", async () => {
    const own = await fetch(`${server.url}/01_getting_started/02_hooks/cpu/throw-handled`);
    expect(await own.json()).toEqual({ handled: "by 02_hooks" });
    const other = await fetch(`${server.url}/01_getting_started/03_plain/cpu/throw-handled`);
    expect(other.status).toBe(500);
    expect(await other.json()).toMatchObject({
      error: "internal_error",
      message: expect.stringMatching(/^Processing failed/),
    });
  });
});

describe("load errors", () => {
  test("each broken module is reported with file, line and message; every other example serves", async () => {
    const byExample = Object.fromEntries(app.errors.map((e) => [e.example, e]));
    expect(Object.keys(byExample).sort()).toEqual([
      "02_broken/01_syntax",
      "02_broken/02_throws",
      "02_broken/03_no_export",
      "02_broken/04_missing_import",
    ]);
    expect(byExample["02_broken/01_syntax"]!.file).toEndWith("02_broken/01_syntax/cpu_worker.ts");
    expect(byExample["02_broken/01_syntax"]!.line).toBeGreaterThanOrEqual(2);
    expect(byExample["02_broken/02_throws"]!.line).toBe(2);
    expect(byExample["02_broken/02_throws"]!.message).toBe("cannot start: model missing");
    expect(byExample["02_broken/03_no_export"]!.message).toContain('exports no "cpu_router"');
    expect(byExample["02_broken/04_missing_import"]!.message).toContain("does-not-exist");
    const later = await fetch(`${server.url}/03_later/01_same/gpu/hello`);
    expect(await later.json()).toEqual({ reply: "still serving", type: "gpu" });
  });

  test("a route of an example that failed to load is 503 with the load error, not 404", async () => {
    const res = await fetch(`${server.url}/02_broken/02_throws/cpu/anything`, { method: "POST" });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error).toBe("module_failed_to_load");
    expect(body.example).toBe("02_broken/02_throws");
    expect(body.message).toContain("cannot start: model missing");
    expect(body.message).toContain("cpu_worker.ts:2");
    const elsewhere = await fetch(`${server.url}/02_broken/no_such_example/x`);
    expect(elsewhere.status).toBe(404);
  });

  test("/health lists examples, routes and errors", async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const health = await res.json();
    expect(health.status).toBe("degraded");
    expect(health.total_examples).toBe(5);
    expect(health.examples_loaded["01_getting_started/01_hello"]).toBe(true);
    expect(health.examples_loaded["02_broken/02_throws"]).toBe(false);
    const pipeline = health.examples.find((e: any) => e.name === "04_pipeline");
    expect(pipeline.prefixes).toEqual(["/01_getting_started/04_pipeline/cpu", "/01_getting_started/04_pipeline"]);
    expect(pipeline.routes).toContainEqual({ method: "POST", path: "/01_getting_started/04_pipeline/classify" });
    expect(health.errors.map((e: any) => e.file.split("/").slice(-3).join("/"))).toContain(
      "02_broken/02_throws/cpu_worker.ts",
    );
    expect(health.errors.every((e: any) => typeof e.message === "string" && "line" in e)).toBe(true);
  });
});

describe("home page and docs", () => {
  test("home page: categories, a card per example, badges linking to the docs, counts and load errors", async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain('<h2 class="category-title">01 Getting Started</h2>');
    expect(html).toContain("<h3>04 Pipeline</h3>");
    expect(html).toContain(`href="/docs#/${encodeURIComponent("01 Getting Started > 04 Pipeline")}"`);
    expect(html).toMatch(/class="endpoint-tag">API</);
    expect(html).toContain('<b id="example-count">5</b>');
    expect(html).toContain(`<b id="route-count">${app.routeCount}</b>`);
    expect(html).toContain("cannot start: model missing");
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
  });

  test("/docs references no external host and its assets are served locally", async () => {
    const html = await (await fetch(`${server.url}/docs`)).text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
      expect(html).toContain(`/docs/assets/${asset}`);
      const res = await fetch(`${server.url}/docs/assets/${asset}`);
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
  });

  test("/docs/json covers every example route with its schema and tag", async () => {
    const doc = await (await fetch(`${server.url}/docs/json`)).json();
    expect(doc.openapi).toStartWith("3.");
    const echo = doc.paths["/01_getting_started/01_hello/gpu/echo"].post;
    expect(echo.tags[0]).toBe("01 Getting Started > 01 Hello");
    expect(echo.requestBody.content["application/json"].schema.properties.text.type).toBe("string");
    expect(doc.paths["/01_getting_started/04_pipeline/classify"].post.tags).toEqual([
      "01 Getting Started > 04 Pipeline",
    ]);
    const documented = Object.keys(doc.paths).filter((p) => p !== "/health").length;
    const served = new Set(app.examples.flatMap((e) => e.routers.flatMap((r) => r.routes.map((x) => x.path))));
    expect(documented).toBe(served.size);
    expect(doc.tags.map((t: any) => t.name)).toContain("03 Later > 01 Same");
  });
});

describe("parse errors", () => {
  test("a file with several parse errors is reported with its own file, the first line and message, and a count", async () => {
    const file = "01_cat/01_typos/cpu_worker.ts";
    const own = makeWorkspace({
      [file]: 'import { Elysia } from "flash";\nconst const cpuConfig = 3;\nexport const cpu_router = new Elysia();\n',
    });
    try {
      const built = await buildApp({ root: own });
      expect(built.errors).toHaveLength(1);
      const [error] = built.errors;
      expect(error!.file).toBe(`${own}/${file}`);
      expect(error!.line).toBe(2);
      expect(error!.message).toStartWith('Expected identifier but found "const"');
      expect(error!.message).toMatch(/\(and \d+ more errors?\)$/);
    } finally {
      removeDir(own);
    }
  });
});
