/**
 * Worker logs as Runpod's v2 REST API serves them (the log book is `../worker-logs.ts`; the worker listing, `GET
 * /v2/serverless/{endpointId}/workers`, is in rest-v2.ts): `GET
 * /v2/serverless/{endpointId}/workers/{workerId}/logs?tail=&since=&source=` is a Server-Sent Events stream of
 * `data: {"source","line","ts"}` frames with `id:` cursors (Last-Event-ID resumes after one) that replays `tail` lines
 * (default 100, at most 5000: more is a 422) and then stays open with live lines; `source` is "container" or
 * "system", omitted both. Shapes from runpod/runpodctl internal/api/logs.go and internal/api/v2.go, and
 * runpod/runpod-mcp src/specgen/tools/logs.ts.
 */
import { Elysia, t } from "elysia";
import { LOG_TAIL_MAX, type LogFrame } from "../worker-logs";
import { type EmulatorContext, jsonError } from "./context";

const LogQuery = t.Object(
  {
    tail: t.Optional(t.String()),
    since: t.Optional(t.String()),
    source: t.Optional(t.String()),
  },
  { additionalProperties: true },
);

/** The worker logs plane: the v2 log stream route. */
export function workerLogs({ logs: book, supervisor, control }: EmulatorContext) {
  return new Elysia().get(
    "/v2/serverless/:ep/workers/:wid/logs",
    ({ params, query, request }) => {
      if (!control.endpoints.has(params.ep) && !book.knows(params.ep, params.wid)) {
        return jsonError(404, `endpoint ${params.ep} not found`);
      }
      const alive = supervisor.alive(params.ep).some((w) => w.id === params.wid);
      if (!alive && !book.knows(params.ep, params.wid)) {
        return jsonError(404, `worker ${params.wid} not found on endpoint ${params.ep}`);
      }
      const log = book.ensure(params.wid, params.ep);
      const tail = query.tail === undefined ? 100 : Number(query.tail);
      if (!Number.isInteger(tail) || tail < 0 || tail > LOG_TAIL_MAX) {
        return jsonError(422, `tail must be an integer from 0 to ${LOG_TAIL_MAX}`);
      }
      const source = query.source;
      if (source !== undefined && source !== "container" && source !== "system") {
        return jsonError(422, `source must be container or system`);
      }
      let since: number | undefined;
      if (query.since !== undefined) {
        since = Date.parse(query.since);
        if (!Number.isFinite(since)) return jsonError(422, "since must be an RFC 3339 timestamp");
      }
      const lastId = Number(request.headers.get("last-event-id") ?? Number.NaN);
      const wanted = (f: LogFrame) => !source || f.source === source;
      const frames = log.frames.filter(wanted);
      // Last-Event-ID wins over tail/since (exclusive: resume after it), then since, then tail.
      const replay = Number.isFinite(lastId)
        ? frames.filter((f) => f.id > lastId)
        : since !== undefined
          ? frames.filter((f) => Date.parse(f.ts) >= since!)
          : tail === 0
            ? []
            : frames.slice(-tail);
      const encoder = new TextEncoder();
      const sse = (f: LogFrame) =>
        encoder.encode(`id: ${f.id}\ndata: ${JSON.stringify({ source: f.source, line: f.line, ts: f.ts })}\n\n`);
      let cleanup = () => {};
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const f of replay) controller.enqueue(sse(f));
          const listener = (f: LogFrame) => {
            if (!wanted(f)) return;
            try {
              controller.enqueue(sse(f));
            } catch {
              cleanup();
            }
          };
          log.listeners.add(listener);
          const keepalive = setInterval(() => {
            try {
              controller.enqueue(encoder.encode(": keepalive\n\n"));
            } catch {
              cleanup();
            }
          }, 15_000);
          cleanup = () => {
            clearInterval(keepalive);
            log.listeners.delete(listener);
          };
          request.signal.addEventListener("abort", () => cleanup());
        },
        cancel() {
          cleanup();
        },
      });
      return new Response(stream, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
      });
    },
    { query: LogQuery },
  );
}
