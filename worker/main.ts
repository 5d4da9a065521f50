/**
 * flash's Runpod worker program. Queue endpoints: takes jobs through the Runpod worker protocol
 * (RUNPOD_WEBHOOK_GET_JOB long-poll, RUNPOD_WEBHOOK_POST_OUTPUT, RUNPOD_WEBHOOK_PING heartbeat), installs each
 * job's dependencies, runs it with flash's executor and posts `{success, result, error, stdout}`.
 * Load-balanced endpoints (PORT set): serves HTTP with `/ping`, `/execute` and the functions' own routes.
 * Run it as `bun worker/main.ts` or, from the compiled binary, `flash __runpod-worker`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { registerFlashModules } from "../core/base/self-import";
import { execute } from "../core/remote/worker/executor";
import type { FunctionRequest, FunctionResponse } from "../core/remote/protocol";
import type { ShippedCall } from "../core/runpod/api";
import { DependencyError, ensureNpmDependencies, ensureSystemDependencies } from "./deps";

const VERSION = "flash-worker/1";

/** Why a job input is not something this worker can run (answered as `success: false`, never a crash). */
class InputError extends Error {
  override name = "InputError";
  readonly status = 400;
}

/** Check that a job input is a flash call (bundle + request) and return it typed. */
export function parseShippedCall(input: unknown): ShippedCall {
  const call = (
    input && typeof input === "object" && "input" in (input as object) && !("flash" in (input as object))
      ? (input as { input: unknown }).input
      : input
  ) as Partial<ShippedCall> | null;
  if (!call || typeof call !== "object" || call.flash !== 1)
    throw new InputError("job input is not a flash call: expected {flash: 1, bundle, request}");
  const b = call.bundle;
  if (
    !b ||
    typeof b.path !== "string" ||
    typeof b.code !== "string" ||
    typeof b.hash !== "string" ||
    !/^[a-f0-9]{8,64}$/.test(b.hash)
  ) {
    throw new InputError("job input.bundle must be {path, hash, code}");
  }
  const rel = normalize(b.path);
  if (isAbsolute(rel) || rel.startsWith(".."))
    throw new InputError(`job input.bundle.path must be relative and stay inside the bundle folder (got ${b.path})`);
  const r = call.request;
  if (
    !r ||
    typeof r.id !== "string" ||
    !Array.isArray(r.args) ||
    (r.executionType !== "function" && r.executionType !== "class")
  ) {
    throw new InputError("job input.request must be a FunctionRequest {id, executionType, args}");
  }
  return { flash: 1, bundle: { ...b, path: rel }, request: r };
}

/**
 * Write a shipped bundle under `dir` (once per content hash) and return the file the executor imports:
 * `bundles/<hash>/<path>.bundle.js`, with every module it inlines (the entry included) written as source at
 * `bundles/<hash>/<its path>`, where the bundle's source map puts it. So stack traces and `remote()` calls name
 * real files with their own lines: ids stay per module and names come from the source, as on the caller's side.
 */
export function materialize(dir: string, bundle: ShippedCall["bundle"]): string {
  const sourceRoot = join(dir, "bundles", bundle.hash);
  const file = join(sourceRoot, `${bundle.path}.bundle.js`);
  if (existsSync(file)) return file;
  for (const [rel, content] of inlinedSources(bundle.code, dirname(bundle.path))) {
    const target = normalize(join(sourceRoot, rel));
    if (!target.startsWith(sourceRoot + "/") || target.includes("/node_modules/") || existsSync(target)) continue;
    writeAtomic(target, content);
  }
  writeAtomic(file, bundle.code); // last: its presence means the whole layout is there
  return file;
}

function writeAtomic(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/** The (path relative to the bundle folder, content) of each source in the bundle's inline source map. */
function inlinedSources(code: string, entryDir: string): [string, string][] {
  const m = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (!m) return [];
  try {
    const map = JSON.parse(Buffer.from(m[1]!, "base64").toString("utf8")) as {
      sources?: string[];
      sourcesContent?: (string | null)[];
    };
    return (map.sources ?? []).flatMap((s, i) => {
      const content = map.sourcesContent?.[i];
      return typeof content === "string" ? [[join(entryDir, s), content] as [string, string]] : [];
    });
  } catch {
    return []; // a map we cannot read only costs names in stack traces
  }
}

/** Run one shipped call: dependencies, bundle, executor. Never throws. */
export async function runCall(input: unknown): Promise<FunctionResponse> {
  const notes: string[] = [];
  try {
    const call = parseShippedCall(input);
    notes.push(...(await ensureSystemDependencies(call.request.systemDependencies)));
    const deps = await ensureNpmDependencies(call.request.dependencies);
    notes.push(...deps.notes);
    const module = materialize(deps.dir, call.bundle);
    const req: FunctionRequest = { ...call.request, module };
    const res = await execute(req);
    if (notes.length) res.stdout = [...notes, ...(res.stdout ? [res.stdout] : [])].join("\n");
    return res;
  } catch (err) {
    const e = err as Error;
    const res: FunctionResponse = {
      success: false,
      error: { name: e?.name ?? "Error", message: e?.message ?? String(err), stack: e?.stack },
    };
    if (err instanceof InputError) res.error!.status = 400;
    if (err instanceof DependencyError) res.error!.status = 500;
    if (notes.length) res.stdout = notes.join("\n");
    return res;
  }
}

/** Add query parameters to a platform URL that may or may not already have a query string. */
export function withQuery(url: string, params: Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  return q ? `${url}${url.includes("?") ? "&" : "?"}${q}` : url;
}

/** What a queue worker reads from the platform's environment. */
export interface WorkerEnv {
  podId: string;
  key: string;
  getJob: string;
  postOutput: string;
  ping?: string;
  pingMs: number;
}

/** The platform's worker environment, or undefined outside a queue worker. */
export function readEnv(): WorkerEnv | undefined {
  const e = process.env;
  if (!e.RUNPOD_WEBHOOK_GET_JOB || !e.RUNPOD_WEBHOOK_POST_OUTPUT) return undefined;
  const podId = e.RUNPOD_POD_ID || crypto.randomUUID();
  return {
    podId,
    key: e.RUNPOD_AI_API_KEY ?? "",
    getJob: e.RUNPOD_WEBHOOK_GET_JOB.replaceAll("$ID", podId),
    postOutput: e.RUNPOD_WEBHOOK_POST_OUTPUT.replaceAll("$RUNPOD_POD_ID", podId),
    ping: e.RUNPOD_WEBHOOK_PING?.replaceAll("$RUNPOD_POD_ID", podId),
    pingMs: Number(e.RUNPOD_PING_INTERVAL ?? 10_000) || 10_000,
  };
}

const say = (line: string) => process.stderr.write(`[flash worker ${process.env.RUNPOD_POD_ID ?? ""}] ${line}\n`);

/** The queue loop: take a job, run it, post the result; forever (until SIGTERM). */
/** The queue loop with `handle` as the job handler (shipped calls by default; deployed mode passes its own). */
export async function queueLoop(
  env: WorkerEnv,
  handle: (input: unknown) => Promise<FunctionResponse> = runCall,
): Promise<never> {
  const headers = { authorization: env.key, "content-type": "application/json", "user-agent": VERSION };
  let current: string | undefined;
  if (env.ping && env.key) {
    const ping = env.ping;
    setInterval(() => {
      const params: Record<string, string> = { runpod_version: VERSION };
      if (current) params.job_id = current;
      fetch(withQuery(ping, params), { headers, signal: AbortSignal.timeout(env.pingMs * 2) }).catch(() => {});
    }, env.pingMs).unref?.();
  }
  let failures = 0;
  for (;;) {
    let job: { id?: string; input?: unknown } | undefined;
    try {
      const res = await fetch(withQuery(env.getJob, { job_in_progress: "0" }), {
        headers,
        signal: AbortSignal.timeout(95_000),
      });
      if (res.status === 204 || res.status === 400) {
        failures = 0;
        continue;
      }
      if (res.status === 429) {
        await Bun.sleep(5000);
        continue;
      }
      if (!res.ok) throw new Error(`job-take answered ${res.status}`);
      const text = await res.text();
      if (!text) continue;
      job = JSON.parse(text);
      failures = 0;
    } catch (err) {
      failures++;
      say(`cannot take a job: ${(err as Error).message}`);
      await Bun.sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5)));
      continue;
    }
    if (!job?.id) continue;
    current = job.id;
    const response = await handle(job.input);
    await postResult(env, headers, job.id, response);
    current = undefined;
  }
}

async function postResult(
  env: WorkerEnv,
  headers: Record<string, string>,
  jobId: string,
  response: FunctionResponse,
): Promise<void> {
  // A failed function is a FAILED job on the platform (with the structured error kept in `output`).
  const body: Record<string, unknown> = { output: response };
  if (!response.success)
    body.error = `${response.error?.name ?? "Error"}: ${response.error?.message ?? "remote call failed"}`;
  const url = withQuery(env.postOutput.replaceAll("$ID", jobId), { isStream: "false" });
  const text = JSON.stringify(body);
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { ...headers, "x-request-id": jobId },
        body: text,
        signal: AbortSignal.timeout(30_000),
      });
      if (res.ok) return;
      say(`job-done for ${jobId} answered ${res.status} (attempt ${attempt}/3)`);
      if (res.status === 404 || res.status === 401) return; // cancelled/expired job or bad key: retrying cannot help
    } catch (err) {
      say(`job-done for ${jobId} failed: ${(err as Error).message} (attempt ${attempt}/3)`);
    }
    await Bun.sleep([0, 1000, 1000, 2000][attempt]!);
  }
}

/** Load-balanced endpoints: an HTTP server on PORT with /ping, /execute and the functions' routes. */
function serveHttp(port: number): void {
  const routes = new Map<string, ShippedCall>();
  const jsonRes = (body: unknown, status = 200) => Response.json(body, { status });
  Bun.serve({
    port,
    hostname: "0.0.0.0",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === (process.env.HEALTH_CHECK_PATH || "/ping") && req.method === "GET")
        return jsonRes({ status: "healthy" });
      const key = `${req.method} ${url.pathname}`;
      let body: unknown;
      if (req.method !== "GET" && req.method !== "HEAD") {
        const text = await req.text();
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          return jsonRes({ error: "bad_request", message: "request body must be JSON" }, 400);
        }
      }
      // A flash call ships its code: run it, and remember it so plain requests to its route work afterwards.
      const shipped =
        body &&
        typeof body === "object" &&
        ((body as { flash?: unknown }).flash === 1 || (body as { input?: { flash?: unknown } }).input?.flash === 1);
      if (shipped) {
        const res = await runCall(body);
        if (url.pathname !== "/execute") {
          try {
            routes.set(key, parseShippedCall(body));
          } catch {
            // runCall already answered the malformed input
          }
        }
        return jsonRes(res);
      }
      const known = routes.get(key);
      if (!known) return jsonRes({ error: "not_found", message: `No route for ${key}` }, 404);
      const args = req.method === "GET" || req.method === "HEAD" ? [Object.fromEntries(url.searchParams)] : [body];
      const res = await runCall({ ...known, request: { ...known.request, args } });
      if (res.success) return jsonRes(res.result ?? null);
      const status =
        res.error?.status && res.error.status >= 400
          ? res.error.status
          : res.error?.name === "InputError" || res.error?.name === "ValueError"
            ? 400
            : 500;
      return jsonRes({ error: res.error?.name ?? "Error", message: res.error?.message ?? "failed" }, status);
    },
  });
  say(`serving HTTP on port ${port}`);
}

/** Local test mode (no platform env): run `--test_input '<json>'` or ./test_input.json once and print the result. */
async function localOnce(argv: string[]): Promise<number> {
  const i = argv.indexOf("--test_input");
  const raw =
    i >= 0 ? argv[i + 1] : existsSync("test_input.json") ? readFileSync("test_input.json", "utf8") : undefined;
  if (!raw) {
    say("no RUNPOD_WEBHOOK_GET_JOB, no PORT, no --test_input and no test_input.json: nothing to do");
    return 2;
  }
  const parsed = JSON.parse(raw);
  const res = await runCall(parsed?.input ?? parsed);
  process.stdout.write(JSON.stringify(res) + "\n");
  return res.success ? 0 : 1;
}

/** Entry point of the worker program. */
export async function runRunpodWorker(argv: string[] = process.argv.slice(2)): Promise<void> {
  registerFlashModules();
  process.on("SIGTERM", () => process.exit(0));
  if (process.env.FLASH_RESOURCE_NAME) {
    // Deployed by `flash deploy`: functions come from the environment's artifact, never with a call.
    const { runDeployedWorker } = await import("./deployed");
    return runDeployedWorker({ queueLoop, readEnv });
  }
  const mode = process.env.FLASH_WORKER_MODE ?? (process.env.PORT ? "lb" : "queue");
  if (mode === "lb") return serveHttp(Number(process.env.PORT ?? 80));
  const env = readEnv();
  if (!env) process.exit(await localOnce(argv));
  await queueLoop(env);
}

if (import.meta.main) await runRunpodWorker();
