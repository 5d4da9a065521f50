/**
 * Deployed mode of flash's Runpod worker (FLASH_RESOURCE_NAME set by `flash deploy`): unpack the environment's
 * artifact, then serve only the functions the manifest declares for this resource, imported from the artifact —
 * no code travels with calls and there is no route that runs shipped code. The mothership resource serves the
 * unified app (every example's routes, as `flash run` does) and sends its `remote()` calls to the deployed
 * endpoints. Artifact location and app folder as worker-flash uses them (runpod-workers/worker-flash
 * src/unpack_volume.py: FLASH_BUILD_ARTIFACT_PATH, default /root/.runpod/artifact.tar.gz; RUNPOD_APP_DIR, /app).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FunctionRequest, FunctionResponse } from "../core/remote/protocol";
import type { DeployedCall } from "../core/deploy/deployed-target";
import type { ManifestResource } from "../core/deploy/manifest";
import type { ExecuteHooks } from "../core/remote/worker/executor";
import { InputError, statusOf } from "../core/base/errors";
import { isGeneratorFunction } from "../core/remote/generators";
import { ndjsonResponse } from "./ndjson";

/** Header with which the mothership marks a body that carries every argument of the call. */
const ARGS_HEADER = "x-flash-args";

const say = (line: string) =>
  process.stderr.write(`[flash deployed ${process.env.FLASH_RESOURCE_NAME ?? ""}] ${line}\n`);

/** Wait for the mounted artifact and unpack it into the app folder (once: an unpacked folder is reused). */
async function unpackArtifact(env: Record<string, string | undefined> = process.env): Promise<string> {
  // FLASH_CONTAINER_ROOT: the emulator's stand-in for the container's "/" (unset on Runpod).
  const top = env.FLASH_CONTAINER_ROOT ?? "";
  const appDir = env.RUNPOD_APP_DIR || `${top}/app`;
  if (existsSync(join(appDir, "flash_manifest.json"))) return appDir;
  const artifact = env.FLASH_BUILD_ARTIFACT_PATH || `${top}/root/.runpod/artifact.tar.gz`;
  const waitS = Number(env.RUNPOD_ARTIFACT_WAIT ?? 300);
  const until = Date.now() + waitS * 1000;
  while (!existsSync(artifact)) {
    if (Date.now() > until)
      throw new Error(
        `no artifact at ${artifact} after ${waitS} s: is the endpoint attached to a deployed Flash environment?`,
      );
    await Bun.sleep(500);
  }
  const started = performance.now();
  const { extractTar } = await import("../core/deploy/tar");
  const n = extractTar(new Uint8Array(readFileSync(artifact)), appDir);
  say(`unpacked ${n} entries from ${artifact} into ${appDir} in ${Math.round(performance.now() - started)} ms`);
  return appDir;
}

/** Check a deployed call's input; the function must be one the manifest declares for this resource. */
function parseDeployedCall(input: unknown, resource: ManifestResource, appDir: string): FunctionRequest {
  const call = (
    input && typeof input === "object" && "input" in input && !("flash" in input)
      ? (input as { input: unknown }).input
      : input
  ) as Partial<DeployedCall> | null;
  if (
    !call ||
    typeof call !== "object" ||
    call.flash !== "deployed" ||
    typeof call.module !== "string" ||
    typeof call.name !== "string"
  ) {
    throw new InputError('job input is not a deployed flash call: expected {flash: "deployed", module, name, args}');
  }
  if (!Array.isArray(call.args)) throw new InputError("args must be a list");
  const fn = resource.functions.find((f) => f.module === call.module && f.name === call.name);
  if (!fn) {
    const known = resource.functions.map((f) => `${f.module}#${f.name}`).join(", ");
    throw Object.assign(
      new Error(`${call.module}#${call.name} is not a function of this endpoint (it serves: ${known})`),
      {
        name: "NotFound",
        status: 404,
      },
    );
  }
  const req: FunctionRequest = {
    module: join(appDir, fn.module),
    name: fn.name,
    executionType: fn.kind,
    args: call.args,
  };
  if (call.stream === true) req.stream = true;
  if (call.instanceId) {
    req.instanceId = call.instanceId;
    req.methodName = call.methodName;
    req.constructorArgs = call.constructorArgs ?? [];
    req.createNewInstance = true;
  }
  return req;
}

function failure(err: unknown): FunctionResponse {
  const e = err as Error & { status?: number };
  return { success: false, error: { name: e?.name ?? "Error", message: e?.message ?? String(err), status: e?.status } };
}

/** Entry of deployed mode. */
export async function runDeployedWorker(): Promise<void> {
  const name = process.env.FLASH_RESOURCE_NAME!;
  const appDir = await unpackArtifact();
  const { readManifest } = await import("../core/deploy/manifest");
  const manifest = readManifest(join(appDir, "flash_manifest.json"));
  const resource = manifest.resources[name];
  if (!resource)
    throw new Error(
      `resource ${name} is not in the artifact's manifest (resources: ${Object.keys(manifest.resources).join(", ")})`,
    );
  if (resource.is_mothership) {
    const { serveMothership } = await import("./mothership");
    return serveMothership(appDir, manifest, say);
  }
  const { execute, loadModule } = await import("../core/remote/worker/executor");
  const { lookup } = await import("../core/remote/worker/registry");
  // A generator function's route streams; the registry holds the function itself once its module is imported.
  const functionOf = async (module: string, name: string) => lookup(await loadModule(module), name)?.value;
  const isGenerator = async (module: string, name: string) => isGeneratorFunction(await functionOf(module, name));
  const port = Number(process.env.PORT ?? 80);
  // LB: answer /ping with 204 (initializing) until the modules are imported, as Runpod's health check expects.
  let ready = false;
  if (resource.is_load_balanced) serveRoutes(resource, appDir, port, () => ready, execute, isGenerator, functionOf);
  const started = performance.now();
  for (const module of new Set(resource.functions.map((f) => f.module))) await loadModule(join(appDir, module));
  ready = true;
  say(`ready: ${resource.functions.length} function(s) imported in ${Math.round(performance.now() - started)} ms`);
  if (resource.is_load_balanced) return;
  // worker/queue.ts, not worker/main.ts: importing the entry module from here would wait on its own top-level await.
  const { queueLoop, readQueueEnv } = await import("./queue");
  const env = readQueueEnv();
  if (!env) throw new Error("deployed queue worker started without RUNPOD_WEBHOOK_GET_JOB");
  const run = async (input: unknown, onChunk?: (chunk: unknown) => void) => {
    try {
      return await execute(parseDeployedCall(input, resource, appDir), { onChunk });
    } catch (err) {
      return failure(err);
    }
  };
  await queueLoop(env, { run, bundles: () => 0 }); // deployed code is one artifact: no shipped bundles pile up
}

function serveRoutes(
  resource: ManifestResource,
  appDir: string,
  port: number,
  ready: () => boolean,
  execute: (req: FunctionRequest, hooks?: ExecuteHooks) => Promise<FunctionResponse>,
  isGenerator: (module: string, name: string) => Promise<boolean>,
  functionOf: (module: string, name: string) => Promise<unknown>,
): void {
  const routes = new Map(resource.functions.filter((f) => f.method && f.path).map((f) => [`${f.method} ${f.path}`, f]));
  const json = (body: unknown, status = 200) => Response.json(body, { status });
  Bun.serve({
    port,
    hostname: "0.0.0.0",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === (process.env.HEALTH_CHECK_PATH || "/ping")) {
        return ready() ? json({ status: "healthy" }) : new Response(null, { status: 204 });
      }
      const fn = routes.get(`${req.method} ${url.pathname}`);
      if (!fn) return json({ error: "not_found", message: `No route for ${req.method} ${url.pathname}` }, 404);
      let args: unknown[] = [Object.fromEntries(url.searchParams)];
      if (req.method !== "GET" && req.method !== "HEAD") {
        const text = await req.text();
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : {};
        } catch {
          return json({ error: "bad_request", message: "request body must be JSON" }, 400);
        }
        // A plain HTTP client's body is the function's one argument; the mothership sends every argument
        // (`{"args": [...]}`, flagged by a header) so functions of several parameters get them all.
        const all =
          req.headers.get(ARGS_HEADER) === "1" && body && typeof body === "object"
            ? (body as { args?: unknown }).args
            : undefined;
        args = Array.isArray(all) ? all : await bindBody(body, () => functionOf(join(appDir, fn.module), fn.name));
      }
      const call: FunctionRequest = { module: join(appDir, fn.module), name: fn.name, executionType: fn.kind, args };
      if (await isGenerator(call.module, fn.name)) {
        // The mothership reads framed lines (ndjson.ts); a plain client gets one JSON value per line.
        const framed = req.headers.get(ARGS_HEADER) === "1";
        return ndjsonResponse((onChunk, signal) => execute({ ...call, stream: true }, { onChunk, signal }), framed);
      }
      const res = await execute(call);
      if (res.success) return json(res.result ?? null);
      const e = res.error;
      return json({ error: e?.name ?? "Error", message: e?.message ?? "failed" }, statusOf(e));
    },
  });
  say(`serving ${routes.size} route(s) on port ${port}`);
}

/**
 * The arguments a plain HTTP client's JSON body gives a function: for a function of several parameters, a body
 * whose fields all name parameters binds them by name (runpod/flash's load-balanced routes bind JSON fields to
 * parameters), so `POST /transform {"text": "hi", "operation": "title"}` calls `transform("hi", "title")`; else the
 * body is the one argument.
 */
async function bindBody(body: unknown, fn: () => Promise<unknown>): Promise<unknown[]> {
  if (!body || typeof body !== "object" || Array.isArray(body)) return [body];
  const names = parameterNames(await fn());
  const keys = Object.keys(body);
  if (!names || names.length < 2 || !keys.length || !keys.every((k) => names.includes(k))) return [body];
  const args = names.map((n) => (body as Record<string, unknown>)[n]);
  while (args.length && args[args.length - 1] === undefined) args.pop(); // missing trailing ones keep their defaults
  return args;
}

/** A function's parameter names from its source, or undefined when one is not a plain name (destructured, rest). */
function parameterNames(fn: unknown): string[] | undefined {
  if (typeof fn !== "function") return undefined;
  const src = Function.prototype.toString.call(fn);
  const bare = /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (bare) return [bare[1]!];
  const open = src.indexOf("(");
  if (open < 0) return undefined;
  const parts: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    if (depth === 0) {
      parts.push(src.slice(start, i));
      break;
    }
    if (depth === 1 && c === ",") {
      parts.push(src.slice(start, i));
      start = i + 1;
    }
  }
  const names: string[] = [];
  for (const part of parts) {
    const name = part.split("=")[0]!.trim();
    if (!name) continue;
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) return undefined;
    names.push(name);
  }
  return names;
}
