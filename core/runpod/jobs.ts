/** The queue job API (`/v2/{id}/run`, `/status`, `/runsync`, `/cancel`, `/health`) and the load-balanced route call. */
import type { FunctionResponse } from "../remote/protocol";
import { logger } from "../base/log";
import { beginWait, type Wait } from "../base/spinner";
import { setting } from "../base/settings";
import { RunpodApiError, sleep, type RunpodHttp } from "./http";
import { lbUrl, type RunpodUrls } from "./connection";
import { isColdStartAnswer, LB_COLD_START_RETRY, LB_REQUEST_TIMEOUT_MS, PAYLOAD_LIMITS } from "./platform";
import { isTerminal, type EndpointHealth, type JobObject, type JobRequest, type StreamReply } from "./api";

const jlog = logger("runpod");

/**
 * How a job is awaited: `/run` + `/status` polling with backoff (cancellable at any time), `/runsync?wait=` first
 * (one round trip; the job id, needed to cancel, is only known when it returns), or `auto`: runsync unless the
 * caller can give up (passed a signal).
 */
export type DispatchMode = "poll" | "runsync" | "auto";

/** How long a job may wait, and how a wait is explained. */
export interface WaitPolicy {
  /** Give up (and cancel) a job still IN_QUEUE after this long, ms (default 10 min; FLASH_RUNPOD_QUEUE_TIMEOUT_S). */
  queueTimeoutMs?: number;
  /** Start reading /health after a job has been IN_QUEUE this long, ms (default 10 s). */
  explainAfterMs?: number;
  /** Give up when every worker has been unhealthy (none ready or starting) this long, ms (default 2 min). */
  unhealthyMs?: number;
  /** LB: retry "no workers available" answers (cold start) for this long, ms (default 3 min). */
  lbColdStartMs?: number;
  /** LB: pause between those retries, ms (default 5 s; the docs say 5–10 s). */
  lbRetryDelayMs?: number;
  /** How long past the execution timeout the client waits for the platform's TIMED_OUT, ms (default 30 s). */
  executionGraceMs?: number;
  /** Show a job's wait for a worker (spinner, or a line when it begins and ends) once it is this old, ms (1 s). */
  showWaitAfterMs?: number;
}

/** Options of one job. */
export interface JobOptions {
  signal?: AbortSignal;
  mode?: DispatchMode;
  /**
   * The endpoint's execution timeout, ms (0 = none). The client gives up this long (plus a grace) after the job
   * went IN_PROGRESS: Runpod's executionTimeout counts from the moment a worker takes the job, and the time in the
   * queue is bounded separately (docs serverless/endpoints/endpoint-configurations: execution timeout, job TTL).
   */
  executionTimeoutMs?: number;
  policy?: JobRequest["policy"];
  /** Told each new reason a job is waiting (also logged). */
  onWait?: (reason: string) => void;
  /**
   * What Runpod's catalog says of the stock of the endpoint's GPU pools (catalog.ts), added to the reason when no
   * worker has started; undefined when the catalog does not answer.
   */
  stock?: () => Promise<string | undefined>;
}

/** A request over Runpod's size limits: never sent. */
class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
}

/** A job that waited too long, with the reason. */
class QueueTimeoutError extends Error {
  override name = "QueueTimeoutError";
}

/** Poll interval schedule: starts at `first` ms, ×1.5 each poll, capped at `max` ms. */
function pollDelays(first = 10, max = 2000): () => number {
  let next = first;
  return () => {
    const d = next;
    next = Math.min(max, Math.round(next * 1.5));
    return d;
  };
}

const MB = 1_000_000; // PAYLOAD_LIMITS are decimal megabytes

/** Throw when a body is over a limit, saying what to do about it. */
function checkPayload(bytes: number, limit: number, what: string): void {
  if (bytes <= limit) return;
  throw new PayloadTooLargeError(
    `${what} is ${(bytes / MB).toFixed(1)} MB, over Runpod's ${limit / MB} MB limit (docs: serverless/endpoints/` +
      "operation-reference, load-balancing/overview). Pass large data by reference instead (a URL, a network volume " +
      "path, or object storage) and keep arguments small; a large bundle means npm packages were inlined: declare " +
      "them in the function's `dependencies` so the worker installs them instead.",
  );
}

/**
 * Why a job is still waiting, from the endpoint's /health worker counters (flash's `ServerlessResource.run()`
 * reads them the same way: ready/idle/running → ready, else initializing, throttled, unhealthy).
 */
function waitReason(h: EndpointHealth | undefined): { reason: string; unhealthyOnly: boolean } {
  const w = h?.workers;
  if (!w) return { reason: "waiting for a worker (endpoint health unavailable)", unhealthyOnly: false };
  if (w.running + w.idle + w.ready > 0) {
    return { reason: `workers are busy (${w.running} running, ${h!.jobs.inQueue} jobs queued)`, unhealthyOnly: false };
  }
  if (w.initializing > 0) {
    return {
      reason: `${w.initializing} worker${w.initializing === 1 ? " is" : "s are"} starting (cold start: image pull and boot)`,
      unhealthyOnly: false,
    };
  }
  if (w.throttled > 0) {
    return {
      reason:
        "workers are throttled: no machine of the requested type is free in the allowed data centers right now " +
        "(allow more GPU types or data centers, or wait)",
      unhealthyOnly: false,
    };
  }
  if (w.unhealthy > 0) {
    return {
      reason:
        `${w.unhealthy} worker${w.unhealthy === 1 ? " is" : "s are"} unhealthy: the image fails to start or crashes ` +
        "(check the endpoint's worker logs in the Runpod console; is the image name right and built for linux/amd64?)",
      unhealthyOnly: true,
    };
  }
  return { reason: "no workers yet (the endpoint has not started one; is workersMax 0?)", unhealthyOnly: false };
}

/** No worker is up or starting: throttled, or none started yet (when the pools' stock explains a wait). */
function startingNone(h: EndpointHealth): boolean {
  const w = h.workers;
  return w.running + w.idle + w.ready + w.initializing + w.unhealthy === 0;
}

/**
 * A job's wait for a worker as a person sees it: shown (beginWait: a spinner at a terminal, else a log line when it
 * begins and one when it ends, with its duration) once the job has been IN_QUEUE `afterMs`, so quick calls add
 * nothing; its reason follows the endpoint's health.
 */
function workerWait(jobId: string, queuedAt: number, afterMs: number) {
  let wait: Wait | undefined;
  let reason = "waiting for a worker (IN_QUEUE)";
  const text = () => `job ${jobId}: ${reason}`;
  return {
    /** The job is still in the queue at `now` (on performance.now's clock), `why` when the health said more. */
    queued(now: number, why?: string) {
      if (why) reason = why.startsWith("waiting") ? why : `waiting for a worker: ${why}`;
      if (wait) wait.update(text());
      else if (now - queuedAt >= afterMs)
        wait = beginWait(text(), { startedAt: queuedAt, plain: (line) => jlog.info(line) });
    },
    /** The wait is over (`summary`: how it ended). */
    end(summary: string) {
      wait?.end(`job ${jobId}: ${summary}`);
      wait = undefined;
    },
  };
}

/** Client of an account's queue endpoints. */
export class RunpodJobs {
  constructor(
    private readonly http: RunpodHttp,
    private readonly urls: RunpodUrls,
    private readonly wait: WaitPolicy = {},
  ) {}

  private url(endpointId: string, path: string): string {
    return `${this.urls.endpointBaseUrl}/${endpointId}/${path}`;
  }

  /** Submit a job; returns `{id, status}`. Sent again only when it provably did not reach Runpod. */
  run(endpointId: string, body: JobRequest, signal?: AbortSignal): Promise<JobObject> {
    const text = JSON.stringify(body);
    checkPayload(Buffer.byteLength(text), PAYLOAD_LIMITS.run, "this call's /run request");
    return this.http.json<JobObject>(this.url(endpointId, "run"), { method: "POST", body, signal, retry: "unsent" });
  }

  /** Submit and hold up to `waitMs` for the result (the reply may still be IN_QUEUE/IN_PROGRESS). */
  runsync(endpointId: string, body: JobRequest, waitMs: number, signal?: AbortSignal): Promise<JobObject> {
    const text = JSON.stringify(body);
    checkPayload(Buffer.byteLength(text), PAYLOAD_LIMITS.runsync, "this call's /runsync request");
    return this.http.json<JobObject>(this.url(endpointId, `runsync?wait=${Math.round(waitMs)}`), {
      method: "POST",
      body,
      signal,
      timeoutMs: waitMs + 15_000,
      retry: "unsent",
    });
  }

  /** A job's current state. */
  status(endpointId: string, jobId: string, signal?: AbortSignal): Promise<JobObject> {
    return this.http.json<JobObject>(this.url(endpointId, `status/${jobId}`), { signal });
  }

  /** The chunks a generator job produced since the previous read, and its status (`/stream/{job}`). */
  streamRead(endpointId: string, jobId: string, signal?: AbortSignal): Promise<StreamReply> {
    return this.http.json<StreamReply>(this.url(endpointId, `stream/${jobId}`), { signal });
  }

  /**
   * Run a generator job, handing each chunk to `onChunk` as `/stream/{job}` returns it, and return the finished job
   * (its `/status`, which carries flash's response or error). It reads as runpod-python's `Job.stream()` does
   * (runpod/endpoint/runner.py): read `/stream`, yield every `output` in `stream`, stop once the status is final
   * and `stream` is empty (chunks read before the final status are never lost). Between empty reads it backs off
   * (10 ms × 1.5 up to 1 s; runpod-python sleeps 1 s each time); a read with chunks resets the pause. Aborting,
   * the execution timeout or a queue wait past its bound cancels the job on Runpod and rejects.
   */
  async submitAndStream(
    endpointId: string,
    input: unknown,
    onChunk: (chunk: unknown) => void,
    opts: JobOptions = {},
  ): Promise<JobObject> {
    const body: JobRequest = { input };
    if (opts.policy) body.policy = opts.policy;
    const submitted = await this.run(endpointId, body);
    if (!submitted?.id) {
      throw new RunpodApiError(
        `Runpod accepted the job without an id: ${JSON.stringify(submitted).slice(0, 200)}`,
        200,
        this.url(endpointId, "run"),
      );
    }
    const id = submitted.id;
    const signal = opts.signal;
    const queuedAt = performance.now();
    const queueTimeoutMs = this.wait.queueTimeoutMs ?? Number(setting("FLASH_RUNPOD_QUEUE_TIMEOUT_S")) * 1000;
    const execLimit = opts.executionTimeoutMs
      ? opts.executionTimeoutMs + (this.wait.executionGraceMs ?? 30_000)
      : undefined;
    let startedAt: number | undefined;
    let status = submitted.status;
    let delay = pollDelays(10, 1000);
    const waiting = workerWait(id, queuedAt, this.wait.showWaitAfterMs ?? 1000);
    try {
      for (;;) {
        if (signal?.aborted) throw signal.reason ?? new Error("aborted");
        const reply = await this.streamRead(endpointId, id, signal);
        status = reply.status;
        const chunks = Array.isArray(reply.stream) ? reply.stream : [];
        for (const c of chunks) onChunk(c?.output ?? null);
        if (isTerminal(status) && chunks.length === 0) break;
        const now = performance.now();
        if (status === "IN_QUEUE") {
          waiting.queued(now);
          if (now - queuedAt > queueTimeoutMs) {
            throw new QueueTimeoutError(
              `Runpod job ${id} waited ${Math.round((now - queuedAt) / 1000)} s in the queue without a worker`,
            );
          }
        } else {
          waiting.end("a worker took it");
          startedAt ??= now;
          if (execLimit && now - startedAt > execLimit) {
            throw timeoutError(`Runpod job ${id} ran past its execution timeout (${opts.executionTimeoutMs} ms)`);
          }
        }
        if (chunks.length) delay = pollDelays(10, 1000);
        else await sleep(delay(), signal);
      }
      waiting.end("a worker took it");
      return await this.status(endpointId, id, signal);
    } catch (err) {
      waiting.end("gave up waiting for a worker");
      if (!isTerminal(status)) await this.cancel(endpointId, id).catch(() => undefined);
      throw err;
    }
  }

  /** The endpoint's job and worker counters. */
  health(endpointId: string, signal?: AbortSignal): Promise<EndpointHealth> {
    return this.http.json<EndpointHealth>(this.url(endpointId, "health"), { signal, timeoutMs: 10_000 });
  }

  /** Cancel a job (best effort: a job that already finished keeps its status). */
  cancel(endpointId: string, jobId: string): Promise<JobObject> {
    return this.http.json<JobObject>(this.url(endpointId, `cancel/${jobId}`), {
      method: "POST",
      body: {},
      timeoutMs: 10_000,
    });
  }

  /**
   * Run a job to a terminal state. Aborting, the execution timeout (counted from IN_PROGRESS) or a queue wait past
   * its bound cancels the job on Runpod and rejects; while it waits in the queue, the endpoint's health says why.
   */
  async submitAndWait(endpointId: string, input: unknown, opts: JobOptions = {}): Promise<JobObject> {
    const body: JobRequest = { input };
    if (opts.policy) body.policy = opts.policy;
    const mode = opts.mode === "auto" || !opts.mode ? (opts.signal ? "poll" : "runsync") : opts.mode;
    // /run is not aborted midway: a submission whose reply we never read would leave a job we cannot cancel.
    let job: JobObject =
      mode === "runsync" ? await this.runsync(endpointId, body, 60_000, opts.signal) : await this.run(endpointId, body);
    if (!job?.id) {
      throw new RunpodApiError(
        `Runpod accepted the job without an id: ${JSON.stringify(job).slice(0, 200)}`,
        200,
        this.url(endpointId, "run"),
      );
    }
    const id = job.id;
    const local = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, local.signal]) : local.signal;
    const delay = pollDelays();
    const queuedAt = performance.now();
    let startedAt = job.status === "IN_PROGRESS" ? performance.now() : undefined;
    let explained = performance.now();
    let lastReason = "";
    let unhealthySince: number | undefined;
    const queueTimeoutMs = this.wait.queueTimeoutMs ?? Number(setting("FLASH_RUNPOD_QUEUE_TIMEOUT_S")) * 1000;
    const explainAfter = this.wait.explainAfterMs ?? 10_000;
    const execLimit = opts.executionTimeoutMs
      ? opts.executionTimeoutMs + (this.wait.executionGraceMs ?? 30_000)
      : undefined;
    const waiting = workerWait(id, queuedAt, this.wait.showWaitAfterMs ?? 1000);
    try {
      while (!isTerminal(job.status)) {
        if (signal.aborted) throw signal.reason ?? new Error("aborted");
        await sleep(delay(), signal);
        job = await this.status(endpointId, id, signal);
        const now = performance.now();
        if (job.status !== "IN_QUEUE") {
          waiting.end("a worker took it");
          startedAt ??= now;
          if (execLimit && now - startedAt > execLimit) {
            throw timeoutError(`Runpod job ${id} ran past its execution timeout (${opts.executionTimeoutMs} ms)`);
          }
          continue;
        }
        if (now - queuedAt > queueTimeoutMs) {
          throw new QueueTimeoutError(
            `Runpod job ${id} waited ${Math.round((now - queuedAt) / 1000)} s in the queue without a worker: ${lastReason || "no worker took it"}`,
          );
        }
        if (now - queuedAt < explainAfter || now - explained < Math.min(10_000, explainAfter)) {
          waiting.queued(now);
          continue;
        }
        explained = now;
        const health = await this.health(endpointId, signal).catch(() => undefined);
        let { reason, unhealthyOnly } = waitReason(health);
        if (opts.stock && health && startingNone(health)) {
          const stock = await opts.stock().catch(() => undefined);
          if (stock) reason = `${reason}; ${stock}`;
        }
        unhealthySince = unhealthyOnly ? (unhealthySince ?? now) : undefined;
        waiting.queued(now, reason);
        if (reason !== lastReason) {
          lastReason = reason;
          jlog.info(`job ${id} waiting ${Math.round((now - queuedAt) / 1000)} s: ${reason}`);
          opts.onWait?.(reason);
        }
        if (unhealthySince !== undefined && now - unhealthySince > (this.wait.unhealthyMs ?? 120_000)) {
          throw new QueueTimeoutError(`Runpod job ${id} cannot start: ${reason}`);
        }
      }
      waiting.end("a worker took it");
      return job;
    } catch (err) {
      waiting.end("gave up waiting for a worker");
      if (!isTerminal(job.status)) {
        // The caller gave up, or the wait hit its bound: do not leave the job queued or running (flash's run()).
        await this.cancel(endpointId, id).catch(() => undefined);
      }
      throw err;
    } finally {
      local.abort();
    }
  }

  /**
   * Send one request to a load-balanced endpoint's route, waiting out a cold start: only the load balancer's
   * "no workers available" answers (which the docs say to retry with 5–10 s delays: serverless/load-balancing/overview;
   * a real 400 "timed out waiting for worker" is one too), which mean no worker saw the request, are sent again,
   * for up to `lbColdStartMs`. Never after a timeout: the function may have run. Returns the worker's answer,
   * success or not; throws for a cold start that outlasted the window.
   */
  async lbRequest(
    endpointId: string,
    req: { method: string; path: string; body?: unknown; headers?: Record<string, string> },
    signal?: AbortSignal,
  ): Promise<Response> {
    const target = lbUrl(this.urls, endpointId, req.path);
    if (req.body !== undefined) {
      checkPayload(Buffer.byteLength(JSON.stringify(req.body)), PAYLOAD_LIMITS.lb, "this call's load-balancer request");
    }
    const until = performance.now() + (this.wait.lbColdStartMs ?? LB_COLD_START_RETRY.windowMs);
    // A cold start is shown as a wait (spinner, or a line when it begins and one when it ends).
    const shown: { wait?: Wait } = {};
    try {
      const res = await this.lbAttempts(endpointId, req, target, until, signal, (w) => (shown.wait = w));
      shown.wait?.end(`endpoint ${endpointId}: a worker answered`);
      return res;
    } catch (err) {
      shown.wait?.end(`endpoint ${endpointId}: gave up waiting for a worker`);
      throw err;
    }
  }

  /** `lbRequest`'s attempts; `onColdStart` gets the wait shown once the first "no workers" answer came. */
  private async lbAttempts(
    endpointId: string,
    req: { method: string; path: string; body?: unknown; headers?: Record<string, string> },
    target: string,
    until: number,
    signal: AbortSignal | undefined,
    onColdStart: (wait: Wait) => void,
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.http.send(target, {
        method: req.method,
        body: req.body,
        headers: req.headers,
        signal,
        timeoutMs: LB_REQUEST_TIMEOUT_MS,
        retry: "unsent",
        accept: (status) => status >= 400,
      });
      if (res.ok) return res;
      const text = await res.text();
      if (!isColdStartAnswer(text)) return new Response(text, { status: res.status, headers: res.headers });
      if (performance.now() > until) {
        throw new RunpodApiError(
          `Runpod load balancer answered ${res.status} for ${req.method} ${req.path}: ${this.http.clean(text.slice(0, 300))}`,
          res.status,
          target,
        );
      }
      if (attempt === 1) {
        const reason = `endpoint ${endpointId}: cold start: no worker ready yet; retrying`;
        onColdStart(beginWait(reason, { plain: (line) => jlog.info(line) }));
      }
      await sleep(this.wait.lbRetryDelayMs ?? LB_COLD_START_RETRY.delayMs, signal);
    }
  }

  /**
   * Call a load-balanced endpoint's route with a shipped call; the worker answers with a FunctionResponse. Sent
   * through `lbRequest` (cold starts waited out, never sent twice once a worker saw it).
   */
  async lbCall(
    endpointId: string,
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
    onChunk?: (chunk: unknown) => void,
  ): Promise<FunctionResponse> {
    const m = method.toUpperCase();
    // GET/HEAD cannot carry the shipped code: those go through the worker's /execute, which runs the same function.
    const shipped = m === "GET" || m === "HEAD";
    const route = shipped ? "/execute" : path;
    const res = await this.lbRequest(endpointId, { method: shipped ? "POST" : m, path: route, body }, signal);
    if (res.ok && res.headers.get("content-type")?.includes("application/x-ndjson")) {
      return readNdjsonCall(res, onChunk, lbUrl(this.urls, endpointId, route));
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as FunctionResponse;
    throw new RunpodApiError(
      `Runpod load balancer answered ${res.status} for ${m} ${path}: ${this.http.clean(text.slice(0, 300))}`,
      res.status,
      lbUrl(this.urls, endpointId, route),
    );
  }
}

/**
 * A generator's call on a load-balanced worker, read as it streams (worker/lb.ts `streamed`): `{"chunk": value}`
 * lines handed to `onChunk` as they arrive, then the `{"response": FunctionResponse}` line (also a deployed route's).
 */
export async function readNdjsonCall(
  res: Response,
  onChunk: ((chunk: unknown) => void) | undefined,
  url: string,
): Promise<FunctionResponse> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += value;
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (!text.trim()) continue;
        const msg = JSON.parse(text) as { chunk?: unknown; response?: FunctionResponse };
        if (msg.response) return msg.response;
        if ("chunk" in msg) onChunk?.(msg.chunk);
      }
      if (done) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  throw new RunpodApiError("the load-balanced worker's stream ended without a response", 502, url);
}

function timeoutError(message: string): Error {
  const e = new Error(message);
  e.name = "TimeoutError";
  return e;
}

/** The flash response a failed job carries inside its `error` string (worker/queue.ts `jobDoneBody`). */
function flashResponseIn(error: string | undefined): FunctionResponse | undefined {
  if (!error || !error.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(error) as { flash?: FunctionResponse };
    return parsed.flash && typeof parsed.flash.success === "boolean" ? parsed.flash : undefined;
  } catch {
    return undefined;
  }
}

/** The FunctionResponse a finished job carries (in `output`, or inside a FAILED job's `error` string). */
export function responseOf(job: JobObject, functionName: string): FunctionResponse & { missing?: string[] } {
  const out = job.output as Partial<FunctionResponse> | undefined;
  if (out && typeof out === "object" && typeof out.success === "boolean") return out as FunctionResponse;
  const inError = flashResponseIn(job.error);
  if (inError) return inError;
  if (job.status === "COMPLETED") {
    return {
      success: false,
      error: {
        name: "ProtocolError",
        message: `Runpod job ${job.id} for ${functionName} completed without a flash response (is the endpoint running flash's worker?)`,
      },
    };
  }
  return jobFailure(job);
}

/** The response for a job that did not complete: its status as the error's name (504 for a timeout). */
export function jobFailure(job: JobObject): FunctionResponse {
  const name =
    job.status === "TIMED_OUT" ? "TimeoutError" : job.status === "CANCELLED" ? "CancelledError" : "RemoteError";
  const error: NonNullable<FunctionResponse["error"]> = {
    name,
    message: `Runpod job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ""}`,
  };
  // A job past its executionTimeout answers 504, as a local call past executionTimeoutMs does.
  if (job.status === "TIMED_OUT") error.status = 504;
  return { success: false, error };
}
