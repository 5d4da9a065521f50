/**
 * The queue-endpoint loop of flash's Runpod worker, following runpod-python's worker
 * (runpod/serverless/modules/rp_job.py, rp_scale.py, rp_ping.py, rp_http.py): long-poll job-take, run the job,
 * post job-done; a heartbeat and the per-job stop channel in a separate thread; a graceful SIGTERM. With
 * `FLASH_MAX_CONCURRENCY` N > 1 (the config's `maxConcurrency`) it keeps up to N jobs in flight, taking
 * `N - in flight` at a time from `job-take-batch`, as runpod-python's JobScaler does with a `concurrency_modifier`
 * (rp_scale.py `get_jobs` / `run_jobs`).
 */
import type { WorkerResponse } from "./call";
import { say, withQuery } from "./platform";
import { STREAM_CHUNK_LIMIT } from "../core/runpod/platform";
import { startMonitor, type Monitor } from "./monitor";

const VERSION = "flash-worker/1";

/** After this many distinct bundles a worker asks the platform for a fresh one (imports are never unloaded). */
const MAX_BUNDLES = Number(process.env.FLASH_WORKER_MAX_BUNDLES ?? 32) || 32;

/** A job as job-take answers it. */
export interface TakenJob {
  id: string;
  input?: unknown;
}

/** The platform URLs and credentials of a queue worker. */
export interface QueueEnv {
  podId: string;
  key: string;
  getJob: string;
  postOutput: string;
  /** job-stream URL (`$ID` for the job): where a generator's chunks go as they are yielded. */
  postStream?: string;
  ping?: string;
  pingMs: number;
  /** Jobs run at once (FLASH_MAX_CONCURRENCY; default 1). */
  concurrency: number;
}

/** The queue worker's environment (runpod-python worker_state.py / rp_job.py names), or none outside Runpod. */
export function readQueueEnv(e: Record<string, string | undefined> = process.env): QueueEnv | undefined {
  if (!e.RUNPOD_WEBHOOK_GET_JOB || !e.RUNPOD_WEBHOOK_POST_OUTPUT) return undefined;
  const podId = e.RUNPOD_POD_ID || crypto.randomUUID();
  return {
    podId,
    key: e.RUNPOD_AI_API_KEY ?? "",
    getJob: e.RUNPOD_WEBHOOK_GET_JOB.replaceAll("$ID", podId),
    postOutput: e.RUNPOD_WEBHOOK_POST_OUTPUT.replaceAll("$RUNPOD_POD_ID", podId),
    // runpod-python rp_http.py: JOB_STREAM_URL = RUNPOD_WEBHOOK_POST_STREAM with $RUNPOD_POD_ID → the worker id.
    postStream: e.RUNPOD_WEBHOOK_POST_STREAM?.replaceAll("$RUNPOD_POD_ID", podId),
    ping: e.RUNPOD_WEBHOOK_PING?.replaceAll("$RUNPOD_POD_ID", podId),
    pingMs: Number(e.RUNPOD_PING_INTERVAL ?? 10_000) || 10_000,
    concurrency: Math.max(1, Math.floor(Number(e.FLASH_MAX_CONCURRENCY ?? 1)) || 1),
  };
}

/**
 * The stop-signal URL: the job-take URL with `/job-take/` replaced by `/job-stop/`, query kept (runpod-python
 * rp_job.py `_job_stop_url`).
 */
function stopUrl(getJob: string): string | undefined {
  return getJob.includes("/job-take/") ? getJob.replace("/job-take/", "/job-stop/") : undefined;
}

/** How the loop runs a job: the executor side, loaded while the first job-take is already out. */
export interface JobRunner {
  /** Run a job; a generator's chunks go to `onChunk` as it yields them. */
  run(input: unknown, onChunk?: (chunk: unknown) => void): Promise<WorkerResponse>;
  /** Distinct bundles imported so far. */
  bundles(): number;
}

/** Take jobs until SIGTERM: run each, post its result. `firstJob` is one the bootstrap already took. */
export async function queueLoop(env: QueueEnv, runner: JobRunner, firstJob?: TakenJob): Promise<void> {
  const headers = { authorization: env.key, "content-type": "application/json", "user-agent": VERSION };
  // The monitor thread (a second JS VM) starts right after the first job-take has gone out, not before it.
  const inFlight = new Set<string>();
  let thread: Monitor | undefined;
  const tell = () => thread?.running([...inFlight]);
  setTimeout(() => {
    thread = startMonitor({
      ping: env.ping && env.key ? withQuery(env.ping, { runpod_version: VERSION }) : undefined,
      pingMs: env.pingMs,
      stop: stopUrl(env.getJob),
      headers,
    });
    tell();
  }, 20);
  // runpod-python rp_scale.py handle_shutdown: stop taking jobs, finish the ones in flight, then exit.
  const jobs = new Set<Promise<void>>();
  let stopping = false;
  let recycle = false;
  const taking = new AbortController();
  process.on("SIGTERM", () => {
    stopping = true;
    taking.abort();
    if (jobs.size === 0) process.exit(0);
    say(`SIGTERM: finishing the ${jobs.size} job(s) in flight, then exiting`);
  });
  const run = async (job: TakenJob) => {
    inFlight.add(job.id);
    tell();
    const stream = new ChunkPoster(env, headers, job.id);
    const response = await runner.run(job.input, (chunk) => stream.push(chunk));
    // Every chunk is posted before job-done: a chunk that arrived after it would find the job finished.
    await stream.flushed();
    inFlight.delete(job.id);
    tell();
    const stopPod = !recycle && runner.bundles() >= MAX_BUNDLES;
    if (stopPod) recycle = true;
    await postResult(env, headers, job.id, response, stopPod, stream.count > 0 || response.chunks !== undefined);
  };
  const start = (job: TakenJob) => {
    const p: Promise<void> = run(job).finally(() => jobs.delete(p));
    jobs.add(p);
  };
  let failures = 0;
  if (firstJob) start(firstJob);
  while (!stopping && !recycle) {
    // Full: wait for a job to end before taking more (rp_scale.py run_jobs: FIRST_COMPLETED).
    if (jobs.size >= env.concurrency) {
      await Promise.race(jobs);
      continue;
    }
    const wanted = env.concurrency - jobs.size;
    const taken = await takeJobs(env, headers, taking.signal, wanted, jobs.size > 0).catch((err: Error) => {
      if (stopping) return [];
      failures++;
      say(`cannot take a job: ${err.message}`);
      return Bun.sleep(Math.min(5000, 200 * 2 ** Math.min(failures, 5))).then(() => []);
    });
    if (taken.length) failures = 0;
    for (const job of taken) start(job);
  }
  await Promise.all(jobs);
  if (recycle) say(`ran ${runner.bundles()} distinct bundles: asked for a fresh worker (stopPod)`);
  process.exit(0);
}

/**
 * Take up to `wanted` jobs: one long-poll of job-take, or of job-take-batch with `batch_size` when the worker runs
 * several at once (runpod-python rp_job.py `get_job(session, num_jobs)`; `job_in_progress=1` while jobs run).
 */
async function takeJobs(
  env: QueueEnv,
  headers: Record<string, string>,
  signal: AbortSignal,
  wanted: number,
  busy: boolean,
): Promise<TakenJob[]> {
  if (env.concurrency === 1) {
    const job = await takeJob(env, headers, signal);
    return job ? [job] : [];
  }
  const url = withQuery(env.getJob.replace("/job-take/", "/job-take-batch/"), {
    batch_size: String(wanted),
    job_in_progress: busy ? "1" : "0",
  });
  const text = await poll(url, headers, signal);
  if (!text) return [];
  const body = JSON.parse(text) as TakenJob | TakenJob[];
  const list = Array.isArray(body) ? body : [body];
  return list.filter((j) => j?.id);
}

/** One long-poll of job-take; undefined when there is no job (204, 400, empty body). */
async function takeJob(
  env: QueueEnv,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<TakenJob | undefined> {
  const text = await poll(withQuery(env.getJob, { job_in_progress: "0" }), headers, signal);
  if (!text) return undefined;
  const job = JSON.parse(text) as TakenJob;
  return job?.id ? job : undefined;
}

/** One long-poll of a job-take URL: its body, or "" when there is no job (204, 400, 429, empty body). */
async function poll(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
  const res = await fetch(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(95_000)]) });
  if (res.status === 204) return "";
  if (res.status === 400) {
    // runpod-python ignores 400 ("expected with FlashBoot") and polls again; a short pause keeps a persistent
    // 400 (wrong endpoint type) from spinning the CPU and hitting rate limits.
    await res.body?.cancel();
    await Bun.sleep(500);
    return "";
  }
  if (res.status === 429) {
    await res.body?.cancel();
    await Bun.sleep(5000); // rp_job.py get_job: back off on 429
    return "";
  }
  if (!res.ok) throw new Error(`job-take answered ${res.status}`);
  return res.text();
}

/**
 * The job-done body. A call that succeeded, or that lacked code (nothing ran), is `{output}`: the job COMPLETES.
 * A call that failed is `{error}` with runpod-python's JSON error string (rp_job.py handle_job: error_type,
 * error_message, error_traceback, …), so the job FAILS on the platform as a raising handler's does; Runpod keeps
 * no `output` next to an `error`, so the flash response (stack, stdout) rides inside that string.
 */
function jobDoneBody(response: WorkerResponse, podId: string): Record<string, unknown> {
  if (response.success || response.missing) return { output: response };
  const error = JSON.stringify({
    error_type: response.error?.name ?? "Error",
    error_message: response.error?.message ?? "failed",
    error_traceback: response.error?.stack ?? "",
    worker_id: podId,
    runpod_version: VERSION,
    flash: response,
  });
  return { error };
}

async function postResult(
  env: QueueEnv,
  headers: Record<string, string>,
  jobId: string,
  response: WorkerResponse,
  stopPod: boolean,
  isStream: boolean,
): Promise<void> {
  const body = jobDoneBody(response, env.podId);
  if (stopPod) body.stopPod = true; // rp_job.py: refresh_worker → "stopPod": true, then the worker exits
  // rp_job.py handle_job: a generator's final job-done goes with isStream=true (send_result(..., is_stream=True)).
  const url = withQuery(env.postOutput.replaceAll("$ID", jobId), { isStream: String(isStream) });
  await postWithRetries(url, { ...headers, "x-request-id": jobId }, JSON.stringify(body), `job-done for ${jobId}`);
}

/**
 * POST a body to a platform URL: up to 3 attempts (runpod-python rp_http.py `_transmit`: FibonacciRetry(attempts=3)),
 * none after a 404 or 401 (a cancelled or expired job, a bad key: retrying cannot help).
 */
async function postWithRetries(
  url: string,
  headers: Record<string, string>,
  text: string,
  what: string,
): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(url, { method: "POST", headers, body: text, signal: AbortSignal.timeout(30_000) });
      if (res.ok) return;
      say(`${what} answered ${res.status} (attempt ${attempt}/3)`);
      if (res.status === 404 || res.status === 401) return;
    } catch (err) {
      say(`${what} failed: ${(err as Error).message} (attempt ${attempt}/3)`);
    }
    await Bun.sleep([0, 1000, 1000, 2000][attempt]!);
  }
}

/**
 * A generator job's chunks, posted to job-stream one at a time and in order as they are yielded, each as
 * `{"output": chunk}` with `isStream=false` (runpod-python rp_job.py `handle_job` → rp_http.py `stream_result`:
 * JOB_STREAM_URL with `$ID` → the job id, then `&isStream=false`). Nothing is aggregated into the final output
 * (runpod-python does that only with `return_aggregate_stream`); job-done then carries flash's response.
 */
class ChunkPoster {
  count = 0;
  private chain: Promise<void> = Promise.resolve();
  private warned = false;

  constructor(
    private readonly env: QueueEnv,
    private readonly headers: Record<string, string>,
    private readonly jobId: string,
  ) {}

  push(chunk: unknown): void {
    if (!this.env.postStream) {
      if (!this.warned) say(`job ${this.jobId} streams, but RUNPOD_WEBHOOK_POST_STREAM is not set: chunks are dropped`);
      this.warned = true;
      return;
    }
    const text = JSON.stringify({ output: chunk });
    const bytes = Buffer.byteLength(text);
    if (bytes > STREAM_CHUNK_LIMIT) {
      // Thrown into the generator's loop: the call fails with this message instead of the reader getting pieces.
      throw new Error(
        `chunk ${this.count + 1} is ${(bytes / 1e6).toFixed(1)} MB, over Runpod's 1 MB per streamed chunk ` +
          "(docs serverless/endpoints/operation-reference): yield smaller pieces, or pass large data by reference " +
          "(a URL or a network volume path)",
      );
    }
    const n = ++this.count;
    const url = withQuery(this.env.postStream.replaceAll("$ID", this.jobId), { isStream: "false" });
    const headers = { ...this.headers, "x-request-id": this.jobId };
    this.chain = this.chain.then(() => postWithRetries(url, headers, text, `job-stream chunk ${n} of ${this.jobId}`));
  }

  /** Resolves once every chunk pushed so far was posted (or given up on). */
  flushed(): Promise<void> {
    return this.chain;
  }
}
