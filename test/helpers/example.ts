/**
 * Test harness for one example: builds the unified app scoped to it (served at its usual URLs) with remote
 * functions on a local worker pool of the test file's own, and stops that pool at the end of the file.
 */
import { afterAll, beforeAll } from "bun:test";
import { basename, dirname } from "node:path";
import { buildApp, type UnifiedApp } from "../../core/app/app";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";

/** Calls into one example's routes, relative to its prefix `/{category}/{example}`. */
export interface ExampleHarness {
  /** The unified app, built in `beforeAll`. */
  readonly app: UnifiedApp;
  /** The pool target of this test file (`bun test` runs every file in one process; each file owns its pools). */
  readonly target: LocalTarget;
  /** Send a request; a string body is sent as is, anything else as JSON. */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<Response>;
  /** Send a request and parse the JSON answer. */
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** POST and parse the JSON answer. */
  post(path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** The local pool of a config, as `/health` shows it. */
  pool(name: string): Promise<any>;
}

/**
 * Set up the harness for the example folder `dir` (use `import.meta.dir` in the example's test file). `volumesDir`
 * puts the example's network volumes in a folder of the test's own (default: the workspace's `.flash/volumes`).
 */
export function exampleHarness(dir: string, opts: { volumesDir?: string } = {}): ExampleHarness {
  const root = dirname(dirname(dir));
  const category = basename(dirname(dir));
  const example = basename(dir);
  const base = `http://localhost/${category}/${example}`;
  const target = new LocalTarget({ volumesDir: opts.volumesDir });
  let app: UnifiedApp | undefined;

  beforeAll(async () => {
    setTarget(target);
    app = await buildApp({ root, scope: { category, example } });
  });
  afterAll(() => target.shutdown());

  const built = (): UnifiedApp => {
    if (!app) throw new Error("the example app is built in beforeAll: call the harness from inside a test");
    return app;
  };
  const request = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.headers = { "content-type": contentType };
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    return built().fetch(new Request(base + path, init));
  };
  const call = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await request(method, path, body, contentType);
    return { status: res.status, body: (await res.json()) as any };
  };
  return {
    get app() {
      return built();
    },
    target,
    request,
    call,
    post: (path, body, contentType) => call("POST", path, body, contentType),
    async pool(name) {
      const health = (await (await built().fetch(new Request("http://localhost/health"))).json()) as any;
      return health.local?.pools?.find((p: any) => p.name === name);
    },
  };
}
