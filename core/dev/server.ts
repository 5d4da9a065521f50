import type { Server } from "bun";
import type { UnifiedApp } from "./app";
import { json } from "../base/errors";
import { log } from "../base/log";

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

/** Listen on host:port (port 0 picks a free one) and serve `app` until stopped. */
export function startServer(app: UnifiedApp, host: string, port: number): FlashServer {
  let current = app;
  const server: Server<undefined> = Bun.serve({
    hostname: host,
    port,
    idleTimeout: 255, // remote calls (model inference) can take minutes; Bun's default 10 s would cut them
    fetch: (request) => current.fetch(request),
    error(err) {
      log.error(`unhandled server error: ${err?.stack ?? err}`);
      return json({ error: "internal_error", message: "Internal server error" }, 500);
    },
  });
  const hostname = server.hostname ?? host;
  const displayHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${displayHost}:${server.port}`,
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
