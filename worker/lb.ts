/**
 * The load-balanced mode of flash's Runpod worker: an HTTP server on PORT (default 80) with the health route on
 * PORT_HEALTH (default PORT) at HEALTH_CHECK_PATH (default /ping), as Runpod's docs define them
 * (serverless/load-balancing/overview, "Environment variables" and "Health checks"); flash's worker-flash LB image
 * serves the same `/ping` and `/execute` (runpod-workers/worker-flash Dockerfile-lb, src/lb_handler.py).
 */
import { statusOf } from "../core/base/errors";
import type { ShippedCall } from "../core/runpod/api";
import { parseShippedCall, runCall, type WorkerResponse } from "./call";
import { ndjsonResponse } from "./ndjson";
import { say } from "./platform";

const jsonRes = (body: unknown, status = 200) => Response.json(body, { status });

function healthPath(): string {
  return process.env.HEALTH_CHECK_PATH || "/ping";
}

/**
 * Calls run one at a time per worker: the executor captures a call's console output by patching the globals, so
 * two interleaved calls would swap each other's output (Runpod's LB sends several requests to one worker: the
 * REQUEST_COUNT scaler). Queued requests still wait far less than a cold start of another worker.
 */
let chain: Promise<unknown> = Promise.resolve();
function serialised(input: unknown, onChunk?: (chunk: unknown) => void, signal?: AbortSignal): Promise<WorkerResponse> {
  const next = chain.then(() => runCall(input, onChunk, signal));
  chain = next.catch(() => undefined);
  return next;
}

/** A generator's call, answered as NDJSON while it runs (see ndjson.ts). */
function streamed(input: unknown, framed: boolean): Response {
  return ndjsonResponse((onChunk, signal) => serialised(input, onChunk, signal), framed);
}

/** Whether a shipped call (or a route's remembered call) runs a generator. */
function isStream(call: unknown): boolean {
  const c = call as { request?: { stream?: unknown }; input?: { request?: { stream?: unknown } } } | undefined;
  return (c?.request ?? c?.input?.request)?.stream === true;
}

/** The request handler of the LB mode (the bootstrap installs it in its own server once the program arrived). */
export function lbHandler(): (req: Request) => Promise<Response> {
  const routes = new Map<string, ShippedCall>();
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname === healthPath() && req.method === "GET") return jsonRes({ status: "healthy" });
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
    if (shipped && isStream(body)) {
      if (url.pathname !== "/execute") {
        try {
          routes.set(key, parseShippedCall(body));
        } catch {
          // runCall answers the malformed input in the stream
        }
      }
      return streamed(body, true);
    }
    if (shipped) {
      const res = await serialised(body);
      if (url.pathname !== "/execute" && !res.missing) {
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
    const { code: _code, ...byHash } = known.bundle; // the bundle is on disk since that first call
    const call = { ...known, bundle: byHash, request: { ...known.request, args } };
    if (isStream(call)) return streamed(call, false);
    const res = await serialised(call);
    if (res.success) return jsonRes(res.result ?? null);
    const status = statusOf(res.error);
    return jsonRes({ error: res.error?.name ?? "Error", message: res.error?.message ?? "failed" }, status);
  };
}

/** Serve the LB mode: the app on PORT, and the health route on PORT_HEALTH too when it differs. */
export function serveHttp(env: Record<string, string | undefined> = process.env): void {
  const port = Number(env.PORT || 80);
  const handler = lbHandler();
  Bun.serve({ port, hostname: "0.0.0.0", idleTimeout: 0, fetch: handler });
  const healthPort = Number(env.PORT_HEALTH || port);
  if (healthPort !== port) {
    Bun.serve({
      port: healthPort,
      hostname: "0.0.0.0",
      fetch: (req) =>
        new URL(req.url).pathname === healthPath() && req.method === "GET"
          ? jsonRes({ status: "healthy" })
          : jsonRes({ error: "not_found" }, 404),
    });
    say(`health on port ${healthPort}`);
  }
  say(`serving HTTP on port ${port}`);
}
