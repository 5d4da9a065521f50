/**
 * Worker logs over Runpod's v2 REST API, as runpodctl `serverless logs` reads them (runpod/runpodctl
 * internal/api/logs.go, cmd/serverless/logs.go): the endpoint's workers from `GET /v2/serverless/{id}/workers`,
 * then one Server-Sent Events stream per worker at `GET /v2/serverless/{id}/workers/{workerId}/logs` with
 * `tail`/`since`/`source`, frames `data: {"source","line","ts"}` with `id:` cursors. Without follow, a stream is
 * read until no line came for 750 ms (the API never closes it); following reconnects with Last-Event-ID.
 */
import { existsSync, readFileSync } from "node:fs";
import { RunpodApiError } from "../runpod/http";
import { parseDuration } from "../base/duration";
import { writeFileAtomic } from "../base/fs";

/** One log line, tagged with its worker. */
export interface LogEntry {
  source: string;
  line: string;
  ts: string;
  workerId: string;
}

/** Options of a log read. */
export interface LogOptions {
  /** RFC 3339 timestamp to start from (tail is ignored then). */
  since?: string;
  source?: "container" | "system";
  tail?: number;
  follow?: boolean;
  /** Snapshot bounds: quiet gap and overall wait, ms. */
  quietMs?: number;
  maxWaitMs?: number;
  signal?: AbortSignal;
}

/** The API's largest `tail` (runpodctl LogTailMax). */
export const TAIL_MAX = 5000;

/** A duration (`500ms`, `30m`, `2h`, `1d`: the syntax of every flag) or an RFC 3339 timestamp → RFC 3339 (before `now`). */
export function sinceTimestamp(value: string, now = Date.now()): string {
  if (/^\d/.test(value.trim()) && !/^\d{4}-/.test(value.trim())) {
    return new Date(now - parseDuration(value, "--since")).toISOString();
  }
  const t = Date.parse(value);
  if (!Number.isFinite(t))
    throw new Error(`--since: expected a duration like 500ms, 30m, 2h, 1d or an RFC 3339 time, got "${value}"`);
  return new Date(t).toISOString();
}

/** Client of the v2 worker routes. */
export class LogClient {
  constructor(
    private readonly apiKey: string,
    /** v2 REST base (`https://api.runpod.io/v2`; the emulator's `${url}/v2`). */
    private readonly v2Base: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, "user-agent": "flash (bun)", ...extra };
  }

  /** The endpoint's workers (ids and statuses). */
  async workers(endpointId: string): Promise<{ id: string; status: string }[]> {
    const url = `${this.v2Base}/serverless/${encodeURIComponent(endpointId)}/workers`;
    const res = await fetch(url, { headers: this.headers(), signal: AbortSignal.timeout(30_000) });
    if (!res.ok)
      throw new RunpodApiError(
        `listing the workers of ${endpointId} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`,
        res.status,
        url,
      );
    const body = (await res.json()) as { workers?: { id: string; status: string }[] };
    return body.workers ?? [];
  }

  /** Read one worker's stream, calling `sink` per line; resolves when the snapshot ends or the signal aborts. */
  async stream(endpointId: string, workerId: string, opts: LogOptions, sink: (e: LogEntry) => void): Promise<void> {
    let cursor = "";
    let backoff = 500;
    for (;;) {
      const got = await this.once(endpointId, workerId, opts, cursor, sink, (id) => {
        cursor = id;
        backoff = 500;
      });
      if (!opts.follow || opts.signal?.aborted) return;
      if (got instanceof Error && got instanceof RunpodApiError && got.status >= 400 && got.status < 500) throw got;
      await Bun.sleep(backoff);
      backoff = Math.min(backoff * 2, 15_000);
    }
  }

  private async once(
    endpointId: string,
    workerId: string,
    opts: LogOptions,
    cursor: string,
    sink: (e: LogEntry) => void,
    onCursor: (id: string) => void,
  ): Promise<Error | undefined> {
    const q = new URLSearchParams();
    if (opts.since) q.set("since", opts.since);
    else if (opts.tail !== undefined) q.set("tail", String(opts.tail));
    if (opts.source) q.set("source", opts.source);
    const url = `${this.v2Base}/serverless/${encodeURIComponent(endpointId)}/workers/${encodeURIComponent(workerId)}/logs${q.size ? `?${q}` : ""}`;
    const controller = new AbortController();
    const abort = () => controller.abort();
    opts.signal?.addEventListener("abort", abort);
    let overall: ReturnType<typeof setTimeout> | undefined;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    if (!opts.follow) overall = setTimeout(abort, opts.maxWaitMs ?? 5000);
    try {
      const res = await fetch(url, {
        headers: this.headers({ accept: "text/event-stream", ...(cursor ? { "last-event-id": cursor } : {}) }),
        signal: controller.signal,
      });
      if (!res.ok) {
        const err = new RunpodApiError(
          `logs of worker ${workerId}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`,
          res.status,
          url,
        );
        if (!opts.follow) throw err;
        return err;
      }
      const type = res.headers.get("content-type") ?? "";
      if (type && !type.includes("text/event-stream"))
        throw new Error(`logs of worker ${workerId}: got ${type} instead of text/event-stream`);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let data: string[] = [];
      let id = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        buffer += value;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, "");
          buffer = buffer.slice(nl + 1);
          if (line === "") {
            const payload = data.join("\n");
            data = [];
            if (payload.trim()) {
              sink(parseFrame(payload, workerId));
              if (!opts.follow) {
                clearTimeout(quiet);
                quiet = setTimeout(abort, opts.quietMs ?? 750);
              }
            }
            if (id) onCursor(id);
            id = "";
          } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          else if (line.startsWith("id:")) id = line.slice(3).trim();
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      if (!opts.follow) throw err;
      return err as Error;
    } finally {
      clearTimeout(overall);
      clearTimeout(quiet);
      opts.signal?.removeEventListener("abort", abort);
    }
  }
}

/** One frame's payload: the documented object, or the raw text when it is not (a wire change stays visible). */
export function parseFrame(payload: string, workerId: string): LogEntry {
  try {
    const o = JSON.parse(payload) as { source?: string; line?: string; ts?: string };
    if (o && typeof o === "object") return { source: o.source ?? "", line: o.line ?? "", ts: o.ts ?? "", workerId };
  } catch {
    // fall through: keep the raw text
  }
  return { source: "", line: payload, ts: "", workerId };
}

/** A log line for a terminal: time, worker, source, text (system lines marked). */
export function formatEntry(e: LogEntry): string {
  const time = e.ts ? e.ts.slice(11, 19) : "--:--:--";
  const src = e.source === "system" ? "sys" : "out";
  return `${time} ${e.workerId.slice(0, 8)} ${src} │ ${e.line}`;
}

/**
 * The workers `flash logs` has seen, per endpoint, with when it last saw each. Runpod's worker listing names only
 * the active workers ("scaled-down workers are not returned": `GET /v2/serverless/{id}/workers` in runpod/docs
 * api-reference-v2/openapi.json), while the log route still serves a gone worker's lines by its id (runpodctl
 * cmd/serverless/logs.go: a worker id "the listing no longer reports still works"; endpoint logs are kept 90 days,
 * docs serverless/development/logs). Remembering the ids is what lets `flash logs` show the last workers' lines
 * after the endpoint scaled to zero.
 */
export class SeenWorkers {
  constructor(
    /** The JSON file (`.flash/log-workers.json` of the workspace). */
    private readonly file: string,
  ) {}

  private read(): Record<string, Record<string, string>> {
    try {
      return existsSync(this.file) ? JSON.parse(readFileSync(this.file, "utf8")) : {};
    } catch {
      return {}; // a damaged file only loses the memory of earlier workers
    }
  }

  /** Note that these workers of the endpoint are active `now`. */
  remember(endpointId: string, workerIds: string[], now = Date.now()): void {
    if (!workerIds.length) return;
    const all = this.read();
    const seen = (all[endpointId] ??= {});
    for (const id of workerIds) seen[id] = new Date(now).toISOString();
    // Keep the newest 20 per endpoint: enough for the last scale-up, small enough to read every time.
    all[endpointId] = Object.fromEntries(
      Object.entries(seen)
        .sort((a, b) => b[1].localeCompare(a[1]))
        .slice(0, 20),
    );
    writeFileAtomic(this.file, `${JSON.stringify(all, null, 2)}\n`);
  }

  /** The endpoint's workers seen within `maxAgeMs` of `now`, newest first, at most `max`. */
  recent(endpointId: string, now = Date.now(), maxAgeMs = 7 * 86_400_000, max = 5): { id: string; lastSeen: string }[] {
    return Object.entries(this.read()[endpointId] ?? {})
      .filter(([, at]) => now - Date.parse(at) <= maxAgeMs)
      .sort((a, b) => b[1].localeCompare(a[1]))
      .slice(0, max)
      .map(([id, lastSeen]) => ({ id, lastSeen }));
  }
}

/** What to do when an endpoint has no active worker and none was seen before (the listing names only active ones). */
export function noWorkersMessage(endpointId: string): string {
  return (
    `endpoint ${endpointId} has no active workers: it scaled to zero (or waits for GPU capacity), and Runpod lists ` +
    "only active workers. Their logs are kept by worker id: run flash logs --follow and call the endpoint to watch " +
    "the next worker, pass --worker ID (a job's status names its workerId), or open the endpoint's Logs tab at " +
    `https://console.runpod.io/serverless/user/endpoint/${endpointId}`
  );
}
