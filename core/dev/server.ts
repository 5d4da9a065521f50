import type { Server } from "bun";
import type { UnifiedApp } from "../app/app";
import { withCallSignal } from "../base/call-context";
import { DEFAULT_MAX_BODY_BYTES } from "../base/env";
import { json } from "../base/errors";
import { log } from "../base/log";
import { httpUrl } from "../base/net";

/** A listening socket whose app can be swapped without closing it. */
export interface FlashServer {
  readonly url: string;
  readonly port: number;
  readonly hostname: string;
  /** The app new requests go to. */
  current(): UnifiedApp;
  /** Route new requests to `app`; requests already running finish on the app they started on. */
  swap(app: UnifiedApp): void;
  /** Stop listening, let in-flight requests finish (up to `graceMs`), then close. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of the listening socket. */
export interface ServerOptions {
  /** Bodies over this many bytes are refused with a 413 before they are read (default 32 MiB). */
  maxBodyBytes?: number;
  /** Called once per answered request (the response's headers), for `flash run`'s request log. */
  onResponse?: (request: Request, status: number, ms: number) => void;
}

/** Listen on host:port (port 0 picks a free one) and serve `app` until stopped. */
export function startServer(app: UnifiedApp, host: string, port: number, options: ServerOptions = {}): FlashServer {
  let current = app;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server: Server<undefined> = Bun.serve({
    hostname: host,
    port,
    idleTimeout: 255, // remote calls (model inference) can take minutes; Bun's default 10 s would cut them
    // A declared length over the limit is answered below, in JSON; Bun's own cut (a bare 413, before `fetch` runs)
    // stays above it, for bodies sent without a length.
    maxRequestBodySize: Math.max(4 * maxBody, 128 * 1024 * 1024),
    fetch(request) {
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > maxBody) return logged(request, performance.now(), tooLarge(length, maxBody));
      // Remote calls made while answering inherit the request's signal: a client that goes away cancels them.
      const started = performance.now();
      return logged(
        request,
        started,
        withCallSignal(request.signal, () => current.fetch(request)),
      );
    },
    error(err) {
      log.error(`unhandled server error: ${err?.stack ?? err}`);
      return json({ error: "internal_error", message: "Internal server error" }, 500);
    },
  });
  /** Report a response to `onResponse` once its headers are ready; the response itself passes through untouched. */
  function logged(request: Request, started: number, response: Response | Promise<Response>) {
    const report = options.onResponse;
    if (!report) return response;
    const done = (res: Response) => {
      report(request, res.status, performance.now() - started);
      return res;
    };
    return response instanceof Response ? done(response) : response.then(done);
  }
  const hostname = server.hostname ?? host;
  return {
    url: httpUrl(hostname, server.port!),
    port: server.port!,
    hostname,
    current: () => current,
    swap(next) {
      current = next;
    },
    async stop(graceMs = 10_000) {
      const graceful = server.stop(false);
      const timedOut = await Promise.race([
        Promise.resolve(graceful).then(() => false),
        Bun.sleep(graceMs).then(() => true),
      ]);
      if (timedOut) {
        log.warn(`requests still running after ${graceMs} ms; closing their connections`);
        await server.stop(true);
      }
    },
  };
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** The 413 of a body over the limit: its size, the limit, and how to raise it. */
function tooLarge(length: number, limit: number): Response {
  return json(
    {
      error: "payload_too_large",
      message: `the request body is ${mib(length)}; this server accepts up to ${mib(limit)} (raise it with --max-body or FLASH_MAX_BODY)`,
      limit,
    },
    413,
    { connection: "close" },
  );
}
