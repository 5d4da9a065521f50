/**
 * What every request passes before its route: the API key (401), Runpod's payload limits (413) and the faults a
 * test injected; and the one error shape of every plane (400 for a malformed request, 404, 500 with the detail in
 * the log).
 */
import { Elysia } from "elysia";
import { validationBody } from "../../base/errors";
import { logger } from "../../base/log";
import { PAYLOAD_LIMITS } from "../../runpod/platform";
import { UPLOAD_PREFIX } from "../flash-apps";
import { bearer, type EmulatorContext, jsonError } from "./context";
import { BUN_RELEASES_PREFIX } from "./flash-apps";
import { isRestV2Path, problem, restV2Unrouted } from "./rest-v2";

const elog = logger("emulator");

/** Worker routes take the endpoint's worker key; every other route the user's. */
const WORKER_ROUTE = /^\/v2\/([^/]+)\/(job-take|job-take-batch|job-done|job-stream|ping|job-stop)\//;

/** The routes a call-only key may use: an endpoint's job API and the load-balanced URLs. */
const CALL_ROUTE =
  /^\/(v2\/(?!serverless\/)[^/]+\/(run|runsync|status|stream|cancel|health|retry|purge-queue)(\/|$)|lb\/)/;

/** The guards plane: key, size and injected faults on every request; one error shape. */
export function guards(ctx: EmulatorContext) {
  const userAuthorized = (request: Request, path: string) => {
    const key =
      bearer(request.headers.get("authorization")) ?? new URL(request.url).searchParams.get("api_key") ?? undefined;
    if (key === undefined) return false;
    return key === ctx.apiKey || (ctx.callKeys.includes(key) && CALL_ROUTE.test(path));
  };
  const workerAuthorized = (request: Request, endpointId: string) => {
    const key = bearer(request.headers.get("authorization"));
    return key !== undefined && (key === ctx.control.endpoints.get(endpointId)?.aiKey || key === ctx.apiKey);
  };
  /** 401 for a call without the right key. */
  const authorize = (request: Request, path: string): Response | undefined => {
    const worker = WORKER_ROUTE.exec(path);
    if (worker ? workerAuthorized(request, worker[1]!) : userAuthorized(request, path) || path === "/")
      return undefined;
    // A presigned upload URL carries its own signature instead of the API key (checked by the Flash plane).
    if (path.startsWith(UPLOAD_PREFIX)) return undefined;
    // Bun's releases are public downloads (GitHub's).
    if (path.startsWith(BUN_RELEASES_PREFIX)) return undefined;
    if (isRestV2Path(path)) return problem(401, "missing or invalid bearer token");
    return jsonError(401, "Unauthorized: missing or invalid API key");
  };
  /** The injected fault this request meets, spending one of its times; undefined when none. */
  const injected = (request: Request, path: string): Response | undefined => {
    const i = ctx.faults.findIndex(
      (f) =>
        f.times > 0 &&
        (!f.method || f.method === request.method) &&
        (!f.path || (typeof f.path === "string" ? path.includes(f.path) : f.path.test(path))),
    );
    if (i < 0) return undefined;
    const fault = ctx.faults[i]!;
    if (fault.after && fault.after-- > 0) return undefined;
    if (--fault.times <= 0) ctx.faults.splice(i, 1);
    return jsonError(fault.status, fault.status === 429 ? "rate limited" : `injected failure ${fault.status}`);
  };
  return new Elysia()
    .onRequest(async ({ request }) => {
      const path = new URL(request.url).pathname;
      return authorize(request, path) ?? (await oversized(request, path)) ?? injected(request, path);
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      if (code === "VALIDATION") return jsonError(400, `malformed request: ${validationBody(error).message}`);
      if (code === "NOT_FOUND") {
        const path = new URL(request.url).pathname;
        return isRestV2Path(path) ? restV2Unrouted(request.method, path) : jsonError(404, "not found");
      }
      if (code === "PARSE") return jsonError(400, "malformed JSON body");
      elog.error(`emulator error: ${(error as Error)?.stack ?? error}`);
      return jsonError(500, "internal error");
    });
}

/** 413 for a body over the route's limit (see PAYLOAD_LIMITS); undefined when it fits or the route has none. */
async function oversized(request: Request, path: string): Promise<Response | undefined> {
  if (request.method !== "POST" && request.method !== "PUT" && request.method !== "PATCH") return undefined;
  const route = /^\/v2\/[^/]+\/(run|runsync)$/.exec(path)?.[1] ?? (path.startsWith("/lb/") ? "lb" : undefined);
  if (!route) return undefined;
  const limit = PAYLOAD_LIMITS[route as keyof typeof PAYLOAD_LIMITS];
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  const size = Number.isFinite(declared) ? declared : (await request.clone().arrayBuffer()).byteLength;
  if (size <= limit) return undefined;
  const where = route === "lb" ? "a load-balanced request" : `/${route}`;
  return jsonError(413, `payload too large: ${size} bytes exceeds the ${limit / 1_000_000} MB limit of ${where}`);
}
