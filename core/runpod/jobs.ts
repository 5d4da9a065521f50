/** The queue job API (`/v2/{id}/run`, `/status`, `/runsync`, `/cancel`) and the load-balanced route call. */
import type { FunctionResponse } from "../remote/protocol";
import { RunpodApiError, sleep, type RunpodHttp } from "./http";
import { lbUrl, type RunpodUrls } from "./settings";
import { isTerminal, type JobObject, type JobRequest } from "./api";

/**
 * How a job is awaited: `/run` + `/status` polling with backoff (cancellable at any time), `/runsync?wait=` first
 * (one round trip; the job id, needed to cancel, is only known when it returns), or `auto`: runsync unless the
 * caller can give up (passed a signal).
 */
export type DispatchMode = "poll" | "runsync" | "auto";

/** Options of one job. */
export interface JobOptions {
  signal?: AbortSignal;
  mode?: DispatchMode;
  /** Give up (and cancel the job) after this long, ms. */
  timeoutMs?: number;
  policy?: JobRequest["policy"];
}

/** Poll interval schedule: starts at `first` ms, ×1.5 each poll, capped at `max` ms. */
export function pollDelays(first = 10, max = 2000): () => number {
  let next = first;
  return () => {
    const d = next;
    next = Math.min(max, Math.round(next * 1.5));
    return d;
  };
}

/** Client of an account's queue endpoints. */
export class RunpodJobs {
  constructor(
    private readonly http: RunpodHttp,
    private readonly urls: RunpodUrls,
  ) {}

  private url(endpointId: string, path: string): string {
    return `${this.urls.endpointBaseUrl}/${endpointId}/${path}`;
  }

  /** Submit a job; returns `{id, status}`. */
  run(endpointId: string, body: JobRequest, signal?: AbortSignal): Promise<JobObject> {
    return this.http.json<JobObject>(this.url(endpointId, "run"), { method: "POST", body, signal });
  }

  /** Submit and hold up to `waitMs` for the result (the reply may still be IN_QUEUE/IN_PROGRESS). */
  runsync(endpointId: string, body: JobRequest, waitMs: number, signal?: AbortSignal): Promise<JobObject> {
    return this.http.json<JobObject>(this.url(endpointId, `runsync?wait=${Math.round(waitMs)}`), {
      method: "POST",
      body,
      signal,
      timeoutMs: waitMs + 15_000,
    });
  }

  /** A job's current state. */
  status(endpointId: string, jobId: string, signal?: AbortSignal): Promise<JobObject> {
    return this.http.json<JobObject>(this.url(endpointId, `status/${jobId}`), { signal });
  }

  /** Cancel a job (best effort: a job that already finished keeps its status). */
  cancel(endpointId: string, jobId: string): Promise<JobObject> {
    return this.http.json<JobObject>(this.url(endpointId, `cancel/${jobId}`), {
      method: "POST",
      body: {},
      timeoutMs: 10_000,
    });
  }

  /** Run a job to a terminal state. Aborting (or the timeout) cancels the job on Runpod and rejects. */
  async submitAndWait(endpointId: string, input: unknown, opts: JobOptions = {}): Promise<JobObject> {
    const body: JobRequest = { input };
    if (opts.policy) body.policy = opts.policy;
    const signal = opts.timeoutMs
      ? AbortSignal.any([...(opts.signal ? [opts.signal] : []), AbortSignal.timeout(opts.timeoutMs)])
      : opts.signal;
    const mode = opts.mode === "auto" || !opts.mode ? (opts.signal ? "poll" : "runsync") : opts.mode;
    // /run is not aborted midway: a submission whose reply we never read would leave a job we cannot cancel.
    let job: JobObject =
      mode === "runsync" ? await this.runsync(endpointId, body, 60_000, signal) : await this.run(endpointId, body);
    if (!job?.id)
      throw new RunpodApiError(
        `Runpod accepted the job without an id: ${JSON.stringify(job).slice(0, 200)}`,
        200,
        this.url(endpointId, "run"),
      );
    const id = job.id;
    const delay = pollDelays();
    try {
      if (signal?.aborted) throw signal.reason ?? new Error("aborted");
      while (!isTerminal(job.status)) {
        await sleep(delay(), signal);
        job = await this.status(endpointId, id, signal);
      }
      return job;
    } catch (err) {
      if (signal?.aborted) {
        await this.cancel(endpointId, id).catch(() => undefined); // the caller gave up: do not leave the job running
      }
      throw err;
    }
  }

  /** Call a load-balanced endpoint's route with a shipped call; the worker answers with a FunctionResponse. */
  async lbCall(
    endpointId: string,
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<FunctionResponse> {
    const m = method.toUpperCase();
    // GET/HEAD cannot carry the shipped code: those go through the worker's /execute, which runs the same function.
    const target =
      m === "GET" || m === "HEAD" ? lbUrl(this.urls, endpointId, "/execute") : lbUrl(this.urls, endpointId, path);
    return this.http.json<FunctionResponse>(target, {
      method: m === "GET" || m === "HEAD" ? "POST" : m,
      body,
      signal,
      timeoutMs: 330_000,
    });
  }
}

/** The FunctionResponse a finished job carries (flash's worker puts it in `output`; platform failures only have `error`). */
export function responseOf(job: JobObject, functionName: string): FunctionResponse {
  const out = job.output as Partial<FunctionResponse> | undefined;
  if (out && typeof out === "object" && typeof out.success === "boolean") return out as FunctionResponse;
  if (job.status === "COMPLETED") {
    return {
      success: false,
      error: {
        name: "ProtocolError",
        message: `Runpod job ${job.id} for ${functionName} completed without a flash response (is the endpoint running flash's worker image?)`,
      },
    };
  }
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
