import { Elysia } from "elysia";
import {
  describeExample,
  discoverCategories,
  listExamples,
  type ExampleInfo,
  type RouterSource,
  type Scope,
} from "../workspace/discovery";
import { buildOpenAPI, docsAsset, docsPage, type DocsSource, type OpenAPIDocument } from "./docs";
import { errorBody, json, notFoundBody, statusOf, validationBody } from "../base/errors";
import { renderHome, type HomeCategory } from "./home";
import { formatLoadError, importModule, type LoadError } from "../workspace/modules";
import { allowedMethods, GuardError, guardRoutes, limitJsonDepth, mayNestDeeply } from "./request-guards";
import { displayTitle } from "../workspace/names";
import { readStatusSections } from "../base/health";

/** A route as listed on `/health`. */
export interface RouteInfo {
  method: string;
  path: string;
}

/** A router that was loaded and mounted. */
export interface MountedRouter {
  type: string;
  prefix: string;
  file: string;
  pattern: RouterSource["pattern"];
  routes: RouteInfo[];
}

/** An example as served: its routers, or none when every one failed to load. */
export interface ServedExample {
  category: string;
  name: string;
  title: string;
  tag: string;
  dir: string;
  routers: MountedRouter[];
}

/** The unified app: one fetch handler for every example plus the home page, `/health` and `/docs`. */
export interface UnifiedApp {
  fetch: (request: Request) => Response | Promise<Response>;
  examples: ServedExample[];
  categories: string[];
  errors: LoadError[];
  routeCount: number;
  /** The OpenAPI document of every mounted route (built on first use). */
  openapi: () => Promise<OpenAPIDocument>;
  /** Per-example builds, reused by incremental rebuilds. */
  parts: ReadonlyMap<string, ExampleBuild>;
  /** How long discovery, imports and mounting took, in milliseconds. */
  buildMs: number;
}

/** What to build: the workspace root and an optional scope (one category or one example). */
export interface BuildOptions {
  root: string;
  scope?: Scope;
  /** The app being replaced: the examples `reuse` accepts are taken from it as built, not imported again. */
  previous?: UnifiedApp;
  /** Which examples (`category/example`) of `previous` are still current. */
  reuse?: (id: string) => boolean;
}

type Handler = (request: Request) => Response | Promise<Response>;

function isElysiaApp(value: unknown): value is Elysia {
  // Duck-typed: an example may hold its own copy of Elysia, so `instanceof` is not reliable.
  const v = value as Record<string, unknown> | null;
  return (
    !!v &&
    typeof v === "object" &&
    typeof v.handle === "function" &&
    Array.isArray(v.routes) &&
    typeof v.use === "function"
  );
}

/**
 * Wrap one example router in its own Elysia app at its prefix, so its hooks (onRequest, onError, derive…)
 * apply to its routes only, and errors nobody handled become flash's JSON bodies.
 */
function mountRouter(router: Elysia, prefix: string, where: string): { app: Elysia; fetch: Handler } {
  const unhandled = new WeakMap<Request, unknown>();
  const app: Elysia = guardRoutes(new Elysia({ prefix: prefix as "" }))
    .onError(({ code, error, request, set, path }) => {
      if (error instanceof GuardError) {
        set.status = error.status;
        return error.body;
      }
      if (code === "VALIDATION") {
        set.status = 422;
        return validationBody(error);
      }
      if (code === "NOT_FOUND") {
        const allow = allowedMethods(app, path);
        if (allow.length > 0) {
          set.status = 405;
          set.headers.allow = allow.join(", ");
          return {
            error: "method_not_allowed",
            message: `${request.method} is not allowed on ${path}; use ${allow.join(" or ")}`,
          };
        }
        set.status = 404;
        return notFoundBody(request.method, path);
      }
      if (code === "PARSE") {
        set.status = 400;
        return { error: "bad_request", message: "The request body could not be parsed (is it valid JSON?)" };
      }
      // Let the example's own onError hooks answer first; if none does, `fetch` below rewrites Elysia's default.
      unhandled.set(request, error);
    })
    .use(router as any) as unknown as Elysia;
  // Compiled on the first request, not at build time: start-up and reloads then cost imports only.
  let inner: Handler | undefined;
  const fetch: Handler = async (original) => {
    inner ??= (app.compile(), app.fetch);
    const request = mayNestDeeply(original) ? await limitJsonDepth(original) : original;
    if (request instanceof Response) return request;
    const response = await inner(request);
    if (!unhandled.has(request)) return response;
    const error = unhandled.get(request);
    const text = await response.clone().text();
    const message = String((error as Error)?.message ?? error);
    if (text !== message) return response; // an example hook answered with its own body
    const status = statusOf(error);
    const body = errorBody(error, status, `${request.method} ${new URL(request.url).pathname} (${where})`);
    return json(body, status, body.request_id ? { "x-request-id": body.request_id } : {});
  };
  return { app, fetch };
}

function routesOf(app: Elysia): RouteInfo[] {
  return app.routes.map((r: any) => ({ method: String(r.method), path: String(r.path) }));
}

/** One example as built: what it serves, its handlers and docs, and its load errors. */
export interface ExampleBuild {
  info: ExampleInfo;
  served: ServedExample;
  handlers: [prefix: string, fetch: Handler][];
  docs: DocsSource[];
  errors: LoadError[];
}

type Imported = ReturnType<typeof importModule>;

async function loadExample(example: ExampleInfo, imports: Map<string, Imported>): Promise<ExampleBuild> {
  const served: ServedExample = {
    category: example.category,
    name: example.name,
    title: example.title,
    tag: example.tag,
    dir: example.dir,
    routers: [],
  };
  const build: ExampleBuild = { info: example, served, handlers: [], docs: [], errors: [] };
  const id = `${example.category}/${example.name}`;
  for (const source of example.routers) {
    const loaded = await imports.get(source.file)!;
    if (!loaded.ok) {
      build.errors.push({ ...loaded.error, example: id });
      continue;
    }
    const router = loaded.mod[source.exportName];
    if (router === undefined) {
      if (source.pattern === "api") continue; // main.ts without api_router is a standalone entry, not an error
      build.errors.push({
        example: id,
        file: source.file,
        line: null,
        column: null,
        message: `exports no "${source.exportName}" (expected an Elysia router)`,
      });
      continue;
    }
    if (!isElysiaApp(router)) {
      build.errors.push({
        example: id,
        file: source.file,
        line: null,
        column: null,
        message: `"${source.exportName}" is not an Elysia instance`,
      });
      continue;
    }
    try {
      const { app, fetch } = mountRouter(router, source.prefix, id);
      const twice = duplicateRoute(build, routesOf(app), source.file);
      if (twice) {
        build.errors.push(twice);
        continue;
      }
      build.handlers.push([source.prefix, fetch]);
      build.docs.push({ app, tag: example.tag });
      served.routers.push({
        type: source.type,
        prefix: source.prefix,
        file: source.file,
        pattern: source.pattern,
        routes: routesOf(app),
      });
    } catch (err) {
      build.errors.push({
        example: id,
        file: source.file,
        line: null,
        column: null,
        message: `could not mount router: ${(err as Error)?.message ?? err}`,
      });
    }
  }
  return build;
}

/** Folder names a URL path carries as they are: a route under any other is listed but never matched. */
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

function urlSafe(category: string, name: string): boolean {
  return URL_SAFE.test(category) && URL_SAFE.test(name);
}

/** An example whose folder names a URL cannot carry (`92_ünïcødé`, `07_a b`): refused with a load error, not served. */
function refused(info: ExampleInfo): ExampleBuild {
  const id = `${info.category}/${info.name}`;
  const served: ServedExample = { ...info, routers: [] };
  const bad = URL_SAFE.test(info.category) ? info.name : info.category;
  const message =
    `the folder name "${bad}" has characters a URL path cannot carry as they are (letters, digits, "_", "-" and "." only); ` +
    `rename it, e.g. to "${bad.normalize("NFKD").replace(/[^A-Za-z0-9._~-]+/g, "_")}"`;
  return {
    info,
    served,
    handlers: [],
    docs: [],
    errors: [{ example: id, file: info.dir, line: null, column: null, message }],
  };
}

/**
 * Two routers of one example serving the same method and path (`main.ts`'s `/gpu/echo` and `gpu_worker.ts`'s
 * `/echo`): one would silently shadow the other, so both places are named in a load error and the later is dropped.
 */
function duplicateRoute(build: ExampleBuild, routes: RouteInfo[], file: string): LoadError | undefined {
  for (const route of routes) {
    const earlier = build.served.routers.find((r) =>
      r.routes.some((o) => o.method === route.method && o.path === route.path),
    );
    if (!earlier) continue;
    return {
      example: `${build.info.category}/${build.info.name}`,
      file,
      line: null,
      column: null,
      message: `${route.method} ${route.path} is defined twice: in ${earlier.file} and in ${file}; remove one (this router is not mounted)`,
    };
  }
  return undefined;
}

const HEALTH_DOC = {
  "/health": {
    get: { tags: ["Info"], summary: "Health: examples loaded, load errors, worker pools", operationId: "health" },
  },
};

/**
 * Discover, import and mount every example under `root` (narrowed by `scope`) into one unified app. Given the
 * previous app, the examples `reuse` accepts keep their mounted routers (the watcher decides which, and purges the
 * others from the module cache first), so a reload costs about one example, not the whole workspace.
 */
export async function buildApp(options: BuildOptions): Promise<UnifiedApp> {
  const started = performance.now();
  const { root, scope = {}, previous, reuse } = options;
  const parts = new Map<string, ExampleBuild | ExampleInfo>();
  for (const { category, name } of listExamples(root, scope)) {
    const id = `${category}/${name}`;
    const old = reuse?.(id) ? previous?.parts.get(id) : undefined;
    const info = old ?? describeExample(root, category, name);
    parts.set(id, "served" in info || urlSafe(category, name) ? info : refused(info));
  }
  // Every import starts at once: Bun transpiles them in parallel (500 examples: 133 → 55 ms). Mounting then
  // follows discovery order, so the app does not depend on which import finished first.
  const imports = new Map<string, Imported>();
  for (const part of parts.values()) {
    if ("served" in part) continue;
    for (const source of part.routers) imports.set(source.file, importModule(source.file, root));
  }
  const built = new Map<string, ExampleBuild>();
  for (const [id, part] of parts) built.set(id, "served" in part ? part : await loadExample(part, imports));
  return assemble(root, scope, built, started);
}

function assemble(root: string, scope: Scope, parts: Map<string, ExampleBuild>, started: number): UnifiedApp {
  const table = new Map<string, Handler>();
  const errors: LoadError[] = [];
  const examples: ServedExample[] = [];
  for (const part of parts.values()) {
    for (const [prefix, fetch] of part.handlers) table.set(prefix, fetch);
    errors.push(...part.errors);
    examples.push(part.served);
  }
  const categories = discoverCategories(root, scope);
  const routeCount = examples.reduce((n, e) => n + e.routers.reduce((m, r) => m + r.routes.length, 0), 0);
  // Built on first use: most reloads are never followed by a look at the docs or the home page.
  let openapi: Promise<OpenAPIDocument> | undefined;
  let openapiJson: Promise<string> | undefined;
  let home: string | undefined;
  const getOpenapi = () =>
    (openapi ??= buildOpenAPI(
      [...parts.values()].flatMap((p) => p.docs),
      HEALTH_DOC,
    ));
  const docsHtml = docsPage();

  const health = () => ({
    status: errors.length ? "degraded" : "healthy",
    total_examples: examples.filter((e) => e.routers.length > 0).length,
    total_routes: routeCount,
    examples_loaded: Object.fromEntries(examples.map((e) => [`${e.category}/${e.name}`, e.routers.length > 0])),
    examples: examples.map((e) => ({
      category: e.category,
      name: e.name,
      tag: e.tag,
      prefixes: e.routers.map((r) => r.prefix),
      routes: e.routers.flatMap((r) => r.routes),
    })),
    errors,
    ...readStatusSections(),
  });

  const fetch: Handler = (request) => {
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const path = start < 0 ? "/" : url.slice(start, q < 0 ? undefined : q);
    const handler = routeFor(table, path);
    if (handler) return handler(request);
    if (request.method === "GET" || request.method === "HEAD") {
      if (path === "/") {
        home ??= renderHome(homeCategories(categories, examples), errors);
        return new Response(home, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      if (path === "/health") return json(health());
      if (path === "/docs" || path === "/docs/")
        return new Response(docsHtml, { headers: { "content-type": "text/html; charset=utf-8" } });
      if (path === "/docs/json") {
        openapiJson ??= getOpenapi().then((doc) => JSON.stringify(doc));
        return openapiJson.then((text) => new Response(text, { headers: { "content-type": "application/json" } }));
      }
      if (path.startsWith("/docs/assets/")) {
        const asset = docsAsset(path.slice("/docs/assets/".length));
        if (asset) return asset;
      }
    }
    const broken = loadErrorFor(errors, path);
    if (broken) return json(loadErrorBody(broken), 503);
    return json(notFoundBody(request.method, path), 404);
  };

  return {
    fetch,
    examples,
    categories,
    errors,
    routeCount,
    openapi: getOpenapi,
    parts,
    buildMs: performance.now() - started,
  };
}

/** The mounted handler for a path: a worker-type prefix `/c/e/t` first, then the example-level `/c/e`. */
function routeFor(table: Map<string, Handler>, path: string): Handler | undefined {
  if (table.size === 0 || path.length < 2) return undefined;
  const s1 = path.indexOf("/", 1);
  if (s1 < 0) return undefined;
  const s2 = path.indexOf("/", s1 + 1);
  if (s2 < 0) return table.get(path);
  const s3 = path.indexOf("/", s2 + 1);
  return table.get(s3 < 0 ? path : path.slice(0, s3)) ?? table.get(path.slice(0, s2));
}

function homeCategories(categories: string[], examples: ServedExample[]): HomeCategory[] {
  return categories.map((category) => ({
    title: displayTitle(category),
    examples: examples
      .filter((e) => e.category === category && e.routers.length > 0)
      .map((e) => ({
        title: e.title,
        tag: e.tag,
        prefix: `/${e.category}/${e.name}`,
        types: e.routers.map((r) => r.type),
        routes: e.routers.reduce((n, r) => n + r.routes.length, 0),
      })),
  }));
}

/** The load error of the example a path belongs to (`/<category>/<example>/…`), when its code failed to load. */
function loadErrorFor(errors: LoadError[], path: string): LoadError | undefined {
  return errors.find((e) => e.example && (path === `/${e.example}` || path.startsWith(`/${e.example}/`)));
}

/** 503 body for a route whose module failed to load: the cause, not a misleading "no route". */
function loadErrorBody(e: LoadError) {
  return {
    error: "module_failed_to_load",
    message: `${e.example} failed to load, so its routes are unavailable: ${formatLoadError(e)}. Fix it and save (flash run --watch reloads).`,
    example: e.example,
  };
}
