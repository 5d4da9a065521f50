/**
 * Benchmark workspaces: the same example tree written twice, as a flash workspace (TypeScript, Elysia routers)
 * and as the Python peer's workspace (FastAPI APIRouters, pydantic bodies, `main.py` = bench/peer/unified.py).
 * Either generated (N identical-shape examples) or mirrored from a real workspace's OpenAPI document.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO, engine } from "./engine";

/** The Python peer's unified app. */
const UNIFIED_PY = join(REPO, "bench", "peer", "unified.py");

/** One generated example: its folder names and its echo route. */
export interface GenExample {
  category: string;
  name: string;
  /** `POST` path of the echo route. */
  route: string;
  /** The worker files (TS and Python), which the reload benchmark edits. */
  tsFile: string;
  pyFile: string;
}

/** A pair of workspaces (flash and Python peer) under one temp folder. */
export interface BenchWorkspace {
  base: string;
  ts: string;
  py: string;
  examples: GenExample[];
  cleanup(): void;
}

/** The JSON body every generated echo route accepts, and what it answers. */
export const ECHO_BODY = { message: "hello", count: 3 };

/** The answer of a generated example's echo route for `ECHO_BODY`. */
export function echoAnswer(category: string, name: string, version = "v0"): Record<string, unknown> {
  return {
    status: "success",
    example: `${category}/${name}`,
    message: ECHO_BODY.message,
    count: ECHO_BODY.count,
    version,
  };
}

/** A generated flash worker: one POST route with a validated body (the shape of 01_hello_world). */
export function tsWorker(category: string, name: string, version = "v0"): string {
  return `import { Elysia, t } from "flash";

const VERSION = "${version}";

/** POST /echo: echo the message back (generated benchmark example ${category}/${name}). */
export const cpu_router = new Elysia().post(
  "/echo",
  ({ body }) => ({ status: "success", example: "${category}/${name}", message: body.message, count: body.count ?? 1, version: VERSION }),
  {
    body: t.Object({
      message: t.String({ maxLength: 10_000, examples: ["hello"] }),
      count: t.Optional(t.Integer({ minimum: 1, maximum: 100 })),
    }),
    detail: { summary: "Echo a message" },
  },
);
`;
}

/** The same worker for the Python peer: an APIRouter with a pydantic body model. */
export function pyWorker(category: string, name: string, version = "v0"): string {
  return `"""Generated benchmark example ${category}/${name} (the Python form of cpu_worker.ts)."""
from typing import Optional

from fastapi import APIRouter
from pydantic import BaseModel, Field

VERSION = "${version}"


class EchoRequest(BaseModel):
    message: str = Field(..., max_length=10000, example="hello")
    count: Optional[int] = Field(None, ge=1, le=100)


cpu_router = APIRouter()


@cpu_router.post("/echo", summary="Echo a message")
async def echo(body: EchoRequest):
    return {"status": "success", "example": "${category}/${name}", "message": body.message, "count": body.count or 1, "version": VERSION}
`;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Root files of a flash workspace whose examples import "flash" from this repository's core. */
function writeTsRoot(dir: string): void {
  write(
    join(dir, "package.json"),
    JSON.stringify({ name: "bench-ws", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] }, null, 2),
  );
  write(
    join(dir, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          module: "Preserve",
          moduleResolution: "bundler",
          paths: { flash: [join(engine.root, "core", "index.ts")] },
        },
      },
      null,
      2,
    ),
  );
}

/** Add one generated example to both trees. */
export function addExample(ws: { ts: string; py: string }, category: string, name: string): GenExample {
  const tsFile = join(ws.ts, category, name, "cpu_worker.ts");
  const pyFile = join(ws.py, category, name, "cpu_worker.py");
  write(tsFile, tsWorker(category, name));
  write(
    join(ws.ts, category, name, "package.json"),
    JSON.stringify({ name: `@bench/${category}-${name}`, private: true, type: "module" }),
  );
  write(pyFile, pyWorker(category, name));
  return { category, name, route: `/${category}/${name}/cpu/echo`, tsFile, pyFile };
}

function newPair(label: string): { base: string; ts: string; py: string } {
  const base = mkdtempSync(join(tmpdir(), `flash-bench-${label}-`));
  const ts = join(base, "ts");
  const py = join(base, "py");
  writeTsRoot(ts);
  write(join(py, "main.py"), readFileSync(UNIFIED_PY, "utf8"));
  return { base, ts, py };
}

/** Generate `n` examples (50 per category) in a new pair of workspaces. */
export function generateWorkspace(n: number): BenchWorkspace {
  const pair = newPair(`gen${n}`);
  const examples: GenExample[] = [];
  for (let i = 0; i < n; i++) {
    const category = `${String(Math.floor(i / 50) + 1).padStart(2, "0")}_gen_category`;
    const name = `${String((i % 50) + 1).padStart(2, "0")}_gen_example`;
    examples.push(addExample(pair, category, name));
  }
  return { ...pair, examples, cleanup: () => rmSync(pair.base, { recursive: true, force: true }) };
}

/** An operation of an OpenAPI document, as much of it as the mirror needs. */
interface Operation {
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}

/** A mounted router as `/health` lists it. */
interface HealthExample {
  category: string;
  name: string;
  prefixes: string[];
}

function pyType(schema: JsonSchema | undefined): string {
  const type = Array.isArray(schema?.type) ? schema!.type[0] : schema?.type;
  switch (type) {
    case "string":
      return "str";
    case "integer":
      return "int";
    case "number":
      return "float";
    case "boolean":
      return "bool";
    case "array":
      return "list";
    case "object":
      return "dict";
    default:
      return "Any";
  }
}

/** A pydantic model for a JSON-schema object body (top-level fields only; nested ones become dict/list). */
function pyModel(className: string, schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([key, s]) => {
    const safe = /^[A-Za-z_]\w*$/.test(key) ? key : `f_${key.replace(/\W/g, "_")}`;
    const alias = safe === key ? "" : `, alias=${JSON.stringify(key)}`;
    return required.has(key)
      ? `    ${safe}: ${pyType(s)} = Field(...${alias})`
      : `    ${safe}: Optional[${pyType(s)}] = Field(None${alias})`;
  });
  return `class ${className}(BaseModel):\n${fields.length ? fields.join("\n") : "    pass"}\n`;
}

/** Python source of one mirrored router: every route answers `{status, route, ...body}`. */
function pyMirrorRouter(exportName: string, routes: { method: string; path: string; schema?: JsonSchema }[]): string {
  const parts = [
    `"""Mirror of a flash router for the benchmark peer: same paths and bodies, minimal handlers."""`,
    "from typing import Any, Optional\n",
    "from fastapi import APIRouter",
    "from pydantic import BaseModel, Field\n",
    `${exportName} = APIRouter()\n`,
  ];
  routes.forEach((r, i) => {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => `${m[1]}: str`);
    const hasBody = r.schema && (r.schema.type === "object" || r.schema.properties);
    if (hasBody) parts.push(pyModel(`Body${i}`, r.schema!));
    const args = [...params, ...(hasBody ? [`body: Body${i}`] : [])].join(", ");
    const echo = hasBody ? ", **body.dict(exclude_none=True)" : "";
    parts.push(
      `@${exportName}.${r.method.toLowerCase()}(${JSON.stringify(path)})`,
      `async def route_${i}(${args}):`,
      `    return {"status": "success", "route": ${JSON.stringify(path)}${echo}}\n`,
    );
  });
  return parts.join("\n");
}

/**
 * Write a Python mirror of a served flash workspace into `pyDir`: for each mounted router, a `{type}_worker.py`
 * (or `main.py` with `api_router`) with the same route paths and pydantic models of the same body fields.
 */
export function mirrorToPython(
  openapi: { paths?: Record<string, Record<string, Operation>> },
  examples: HealthExample[],
  pyDir: string,
): number {
  let routes = 0;
  for (const ex of examples) {
    for (const prefix of ex.prefixes) {
      const base = `/${ex.category}/${ex.name}`;
      const type = prefix === base ? "api" : prefix.slice(base.length + 1);
      const mine: { method: string; path: string; schema?: JsonSchema }[] = [];
      for (const [path, ops] of Object.entries(openapi.paths ?? {})) {
        if (!path.startsWith(`${prefix}/`) && path !== prefix) continue;
        // An example-level router must not take its worker routers' paths.
        if (type === "api" && ex.prefixes.some((p) => p !== prefix && path.startsWith(`${p}/`))) continue;
        for (const [method, op] of Object.entries(ops)) {
          if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
          const schema = op.requestBody?.content?.["application/json"]?.schema;
          mine.push({ method, path: path.slice(prefix.length) || "/", schema });
          routes++;
        }
      }
      const file =
        type === "api"
          ? join(pyDir, ex.category, ex.name, "main.py")
          : join(pyDir, ex.category, ex.name, `${type}_worker.py`);
      write(file, pyMirrorRouter(`${type}_router`, mine));
    }
  }
  return routes;
}

/** A temp folder holding only a Python workspace (its `main.py`), for mirroring a real workspace into. */
export function pythonWorkspace(label: string): { base: string; py: string; cleanup(): void } {
  const base = mkdtempSync(join(tmpdir(), `flash-bench-${label}-`));
  const py = join(base, "py");
  write(join(py, "main.py"), readFileSync(UNIFIED_PY, "utf8"));
  return { base, py, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** A new pair of workspaces: a copy of a real workspace's examples (flash side) and, later, its Python mirror. */
export function copyWorkspace(src: string): BenchWorkspace {
  const pair = newPair("real");
  for (const category of readdirSync(src)
    .filter((d) => /^\d\d_/.test(d))
    .sort()) {
    cpSync(join(src, category), join(pair.ts, category), {
      recursive: true,
      filter: (from) => !from.split("/").includes("node_modules") && !from.endsWith("/.env"),
    });
  }
  // Examples import packages installed at the real root (or, unhoisted, in their own folder): link them.
  symlinkSync(join(src, "node_modules"), join(pair.ts, "node_modules"));
  for (const rel of new Bun.Glob("[0-9][0-9]_*/[0-9][0-9]_*/node_modules").scanSync({ cwd: src, onlyFiles: false })) {
    symlinkSync(join(src, rel), join(pair.ts, rel));
  }
  return { ...pair, examples: [], cleanup: () => rmSync(pair.base, { recursive: true, force: true }) };
}
