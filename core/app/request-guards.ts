/**
 * Guards every mounted example router gets, before the example's own code runs: JSON nested too deeply for the
 * validator (a 400, not a stack overflow), a body that is not a JSON object where the route's schema wants one (415
 * for text or XML, 422 for `null`, arrays and scalars, even when every field has a default), and 405 with `Allow`
 * for a known path asked with another method.
 */
import type { Elysia } from "elysia";
import { json } from "../base/errors";

/** Deepest JSON body accepted: far beyond any real input, far below what recursive validators survive. */
const MAX_JSON_DEPTH = 256;

/** An error the mount answers itself, with its own status and JSON body. */
export class GuardError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
    this.name = "GuardError";
  }
}

/** How deep `text` (JSON) nests objects and arrays, counting up to `limit + 1` (strings are skipped). */
function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return deepest;
}

/** True when a request's JSON body is large enough to nest beyond `MAX_JSON_DEPTH` (only those are read first). */
export function mayNestDeeply(request: Request): boolean {
  const length = Number(request.headers.get("content-length") ?? 0);
  return (
    length > 2 * MAX_JSON_DEPTH && /^application\/(?:[\w.+-]+\+)?json/i.test(request.headers.get("content-type") ?? "")
  );
}

/**
 * Read a large JSON body before the router does: nesting beyond `MAX_JSON_DEPTH` gets a 400 (the validator would
 * overflow its stack); otherwise a copy of the request carries the text on.
 */
export async function limitJsonDepth(request: Request): Promise<Request | Response> {
  const text = await request.text();
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    const message = `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`;
    return json({ error: "bad_request", message }, 400);
  }
  return new Request(request, { body: text });
}

interface RouteLike {
  method: string;
  path: string;
  hooks?: { body?: unknown };
}

function wantsObject(schema: unknown): boolean {
  const s = schema as { type?: unknown } | null;
  return !!s && typeof s === "object" && s.type === "object";
}

/** A body schema with a file field (`t.File`/`t.Files`, format "binary"): the route takes multipart/form-data. */
function takesFiles(schema: unknown): boolean {
  const props = (schema as { properties?: Record<string, { format?: string; items?: { format?: string } }> })
    ?.properties;
  return Object.values(props ?? {}).some((p) => p?.format === "binary" || p?.items?.format === "binary");
}

/**
 * Content types a JSON-object route takes: JSON and `+json` types. Not forms: curl's `-d` without a content type
 * sends JSON text as a form, which Elysia would turn into `{ '{"name":"x"}': "" }` and answer with the defaults.
 */
const OBJECT_TYPES = /^\s*application\/(?:[\w.+-]+\+)?json\b/i;

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? "a string" : `a ${typeof value}`;
}

/**
 * Refuse a body that is not an object on a route whose schema is an object, before defaults fill it in: a content
 * type other than JSON (text, XML, forms; Elysia would parse them as a string or a query string) is a 415, and
 * JSON `null`, arrays or scalars are a 422. A request with no body at all gets the defaults, as documented.
 */
function bodyShapeCheck(app: Elysia): (ctx: { request: Request; route: string; body: unknown }) => void {
  let objectRoutes: Map<string, { files: boolean }> | undefined;
  return ({ request, route, body }) => {
    objectRoutes ??= new Map(
      (app.routes as RouteLike[])
        .filter((r) => wantsObject(r.hooks?.body))
        .map((r) => [`${r.method} ${r.path}`, { files: takesFiles(r.hooks?.body) }]),
    );
    const shape = objectRoutes.get(`${request.method} ${route}`);
    if (shape === undefined) return;
    const type = request.headers.get("content-type") ?? "";
    // An upload route (t.File) takes multipart/form-data (curl -F), which Elysia parses into an object.
    if (shape.files && /^\s*multipart\/form-data\b/i.test(type)) return;
    const json = OBJECT_TYPES.test(type);
    if (body === undefined && (json || type === "")) return; // no body at all: the schema's defaults apply
    if (json && body !== null && typeof body === "object" && !Array.isArray(body)) return;
    if (!json) {
      throw new GuardError(415, {
        error: "unsupported_media_type",
        message: `This route takes a JSON object; send it with content-type: application/json (got ${type ? `"${type.split(";")[0]}"` : "no content-type"}; with curl: -H 'content-type: application/json')`,
      });
    }
    const got = kindOf(body);
    throw new GuardError(422, {
      error: "validation",
      message: `body: Expected a JSON object, got ${got}`,
      detail: [{ loc: ["body"], msg: `Expected a JSON object, got ${got}`, type: "expected_object" }],
    });
  };
}

/** Install the body-shape guard on the app that mounts one example router (before `.use(router)`). */
export function guardRoutes(app: Elysia): Elysia {
  return app.onTransform({ as: "global" }, bodyShapeCheck(app) as never) as unknown as Elysia;
}

function matches(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const got = path.split("/");
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w === "*") return true;
    if (w.startsWith(":")) {
      if (w.endsWith("?") && got[i] === undefined) continue;
      if (!got[i]) return false;
      continue;
    }
    if (w !== got[i]) return false;
  }
  return want.length === got.length;
}

/** The methods `app` answers on `path` (with HEAD beside GET), or none when the path is unknown. */
export function allowedMethods(app: Elysia, path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes as RouteLike[]) {
    if (!matches(r.path, path)) continue;
    if (r.method === "ALL") return [];
    methods.add(r.method);
    if (r.method === "GET") methods.add("HEAD");
  }
  return [...methods];
}
