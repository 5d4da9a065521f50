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
      const declared = request.headers.get("content-length");
      const started = performance.now();
      if (declared !== null && Number(declared) > maxBody)
        return logged(request, started, tooLarge(Number(declared), maxBody));
      // Remote calls made while answering inherit the request's signal: a client that goes away cancels them.
      const serve = (req: Request) => withCallSignal(request.signal, () => current.fetch(req));
      if (declared !== null || !request.body) return logged(request, started, serve(request));
      // No declared length (chunked): count while reading, and stop at the limit.
      return logged(
        request,
        started,
        readWithin(request, maxBody).then((req) => (req ? serve(req) : tooLarge(null, maxBody))),
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

/**
 * Read a body sent without a length (chunked), counting bytes as they arrive: the request again, with its body in
 * memory and its length declared, or null as soon as the body passes `limit` (the rest is never read).
 */
async function readWithin(request: Request, limit: number): Promise<Request | null> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      void reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const headers = new Headers(request.headers);
  headers.delete("transfer-encoding");
  headers.set("content-length", String(size));
  return new Request(request.url, { method: request.method, headers, body: Buffer.concat(chunks, size) });
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/** The 413 of a body over the limit: its size (null: sent without a length, cut at the limit), the limit, and how to raise it. */
function tooLarge(length: number | null, limit: number): Response {
  const size = length === null ? `over ${mib(limit)}` : mib(length);
  return json(
    {
      error: "payload_too_large",
      message: `the request body is ${size}; this server accepts up to ${mib(limit)} (raise it with --max-body or FLASH_MAX_BODY)`,
      limit,
    },
    413,
    { connection: "close" },
  );
}
