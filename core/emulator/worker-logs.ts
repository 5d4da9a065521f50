/**
 * Worker logs as Runpod's v2 REST API serves them: `GET /v2/serverless/{endpointId}/workers` lists an endpoint's
 * workers, and `GET /v2/serverless/{endpointId}/workers/{workerId}/logs?tail=&since=&source=` is a Server-Sent
 * Events stream of `data: {"source","line","ts"}` frames with `id:` cursors (Last-Event-ID resumes after one) that
 * replays `tail` lines (default 100, at most 5000: more is a 422) and then stays open with live lines. Shapes from
 * runpod/runpodctl internal/api/logs.go and internal/api/v2.go, and runpod/runpod-mcp src/specgen/tools/logs.ts.
 * `source` is "container" (the worker's stdout/stderr) or "system" (the platform's own lines: container create,
 * start, exit); omitted, both.
 */
import { Elysia, t } from "elysia";
import type { EmulatedWorker, WorkerSupervisor } from "./supervisor";
import type { ControlPlane } from "./control-plane";

/** One log line of one worker. */
export interface LogFrame {
  id: number;
  source: "container" | "system";
  line: string;
  ts: string;
}

interface WorkerLog {
  endpointId: string;
  frames: LogFrame[];
  listeners: Set<(f: LogFrame) => void>;
}

/** The API's cap on `tail` (runpodctl internal/api/logs.go LogTailMax). */
const LOG_TAIL_MAX = 5000;
const KEEP_LINES = 10_000;

/** Every worker's log lines (kept after the worker exits, so a crash can be read afterwards). */
export class WorkerLogBook {
  private readonly logs = new Map<string, WorkerLog>();
  private seq = 0;

  /** Record one line of a worker. */
  record(worker: Pick<EmulatedWorker, "id" | "endpointId">, source: LogFrame["source"], line: string): void {
    const log = this.ensure(worker.id, worker.endpointId);
    const frame: LogFrame = { id: ++this.seq, source, line, ts: new Date().toISOString() };
    log.frames.push(frame);
    if (log.frames.length > KEEP_LINES) log.frames.splice(0, log.frames.length - KEEP_LINES);
    for (const l of log.listeners) l(frame);
  }

  /** The log of a worker, created empty when it has not printed anything yet. */
  ensure(workerId: string, endpointId: string): WorkerLog {
    let log = this.logs.get(workerId);
    if (!log) {
      log = { endpointId, frames: [], listeners: new Set() };
      this.logs.set(workerId, log);
    }
    return log;
  }

  /** Every line the workers of an endpoint printed, oldest first (what a crash left behind, too). */
  linesOf(endpointId: string): string[] {
    const frames = [...this.logs.values()].filter((l) => l.endpointId === endpointId).flatMap((l) => l.frames);
    return frames.sort((a, b) => a.id - b.id).map((f) => f.line);
  }

  /** Whether a worker of this endpoint ever logged. */
  knows(endpointId: string, workerId: string): boolean {
    return this.logs.get(workerId)?.endpointId === endpointId;
  }
}

function workerStatus(w: EmulatedWorker): string {
  if (w.state === "initializing") return "INITIALIZING";
  if (w.state === "running" || w.inflight > 0) return "RUNNING";
  return "IDLE";
}

const LogQuery = t.Object(
  {
    tail: t.Optional(t.String()),
    since: t.Optional(t.String()),
    source: t.Optional(t.String()),
  },
  { additionalProperties: true },
);

const jsonErr = (status: number, message: string) =>
  new Response(JSON.stringify({ error: message }), { status, headers: { "content-type": "application/json" } });

/** The v2 worker listing and log stream routes. */
export function workerLogRoutes(book: WorkerLogBook, supervisor: WorkerSupervisor, control: ControlPlane) {
  return new Elysia()
    .get("/v2/serverless/:ep/workers", ({ params }) => {
      const endpoint = control.endpoints.get(params.ep);
      if (!endpoint) return jsonErr(404, `endpoint ${params.ep} not found`);
      const workers = supervisor.alive(params.ep).map((w) => ({
        id: w.id,
        status: workerStatus(w),
        gpuCount: endpoint.gpuCount,
        gpuTypeId: endpoint.gpuIds.split(",")[0] || undefined,
        startedAt: new Date(w.startedAt).toISOString(),
        version: endpoint.version,
      }));
      const count = (s: string) => workers.filter((w) => w.status === s).length;
      return {
        workers,
        summary: {
          total: workers.length,
          idle: count("IDLE"),
          initializing: count("INITIALIZING"),
          running: count("RUNNING"),
          throttled: 0,
          unhealthy: 0,
        },
        endpointVersion: endpoint.version,
      };
    })
    .get(
      "/v2/serverless/:ep/workers/:wid/logs",
      ({ params, query, request }) => {
        if (!control.endpoints.has(params.ep) && !book.knows(params.ep, params.wid)) {
          return jsonErr(404, `endpoint ${params.ep} not found`);
        }
        const alive = supervisor.alive(params.ep).some((w) => w.id === params.wid);
        if (!alive && !book.knows(params.ep, params.wid)) {
          return jsonErr(404, `worker ${params.wid} not found on endpoint ${params.ep}`);
        }
        const log = book.ensure(params.wid, params.ep);
        const tail = query.tail === undefined ? 100 : Number(query.tail);
        if (!Number.isInteger(tail) || tail < 0 || tail > LOG_TAIL_MAX) {
          return jsonErr(422, `tail must be an integer from 0 to ${LOG_TAIL_MAX}`);
        }
        const source = query.source;
        if (source !== undefined && source !== "container" && source !== "system") {
          return jsonErr(422, `source must be container or system`);
        }
        let since: number | undefined;
        if (query.since !== undefined) {
          since = Date.parse(query.since);
          if (!Number.isFinite(since)) return jsonErr(422, "since must be an RFC 3339 timestamp");
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
