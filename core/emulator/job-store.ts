import { logger } from "../base/log";
import type { EndpointHealth, JobObject, JobPolicy, JobRequest, JobStatus } from "../runpod/api";
import { isTerminal } from "../runpod/api";
import { DEFAULT_EXECUTION_TIMEOUT_MS, isEmptyInput } from "../runpod/platform";

const elog = logger("emulator");

/** A job as the emulator keeps it: the public job object plus the bookkeeping that drives its state machine. */
export interface EmulatedJob {
  id: string;
  endpointId: string;
  status: JobStatus;
  input: unknown;
  webhook?: string;
  policy: JobPolicy;
  s3Config?: Record<string, unknown>;
  sync: boolean;
  submittedAt: number;
  takenAt?: number;
  doneAt?: number;
  workerId?: string;
  output?: unknown;
  hasOutput: boolean;
  error?: string;
  retries: number;
  /** Stream chunks not yet read through `/stream`. */
  chunks: unknown[];
  /** Times the platform put the job back in the queue after its worker died. */
  requeues: number;
}

/** Timing knobs of the emulated platform (defaults are Runpod's; tests shorten them). */
export interface StoreOptions {
  /** How long a finished `/run` job stays readable (Runpod: 30 min). */
  retentionMs?: number;
  /** How long a finished `/runsync` job stays readable (Runpod: 1 min). */
  syncRetentionMs?: number;
  /** Default job TTL from submission (Runpod: 24 h). */
  ttlMs?: number;
  /** Default execution timeout once a worker took the job (Runpod: 10 min). */
  executionTimeoutMs?: number;
  /** How many times a job whose worker died is put back in the queue before it fails. */
  maxRequeues?: number;
  /** Pause between webhook attempts (Runpod: 10 s). */
  webhookRetryDelayMs?: number;
  /** How often execution timeouts, TTLs and retention are checked, ms (default 200). */
  sweepIntervalMs?: number;
  /**
   * Whether `/status` of a FAILED job still shows the `output` its worker posted next to `error`. Undocumented
   * (not documented: `flash doctor runpod` checks it on a real account); FAILED replies seen in the wild carry no `output` (https://docs.runpod.io/serverless/endpoints/job-states, runpod/runpod-python
   * issues), so the default is false: a client must not count on it.
   */
  failedKeepsOutput?: boolean;
}

type Waiter = { workerId: string; resolve: (job: EmulatedJob | null) => void };
type Watcher = () => void;

/**
 * The emulator's job queue and state machine (https://docs.runpod.io/serverless/endpoints/job-states; runpod-python runpod/serverless/modules/rp_job.py): submit → IN_QUEUE → job-take → IN_PROGRESS →
 * job-done → COMPLETED/FAILED, with cancel, retry, purge, execution timeout, TTL, retention and webhooks.
 */
export class JobStore {
  readonly jobs = new Map<string, EmulatedJob>();
  private readonly queues = new Map<string, string[]>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly counters = new Map<string, { completed: number; failed: number; retried: number }>();
  private readonly opts: Required<StoreOptions>;
  private readonly stops = new Map<string, string[]>();
  private readonly stopWaiters = new Map<string, () => void>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  /** Called when a job enters the queue or a running job ends: the worker supervisor rescales. */
  onChange: (endpointId: string) => void = () => {};
  /** Called when a running job must stop (cancel, timeout): the supervisor kills its worker. */
  onStop: (job: EmulatedJob, reason: JobStatus) => void = () => {};

  constructor(options: StoreOptions = {}) {
    this.opts = {
      retentionMs: options.retentionMs ?? 30 * 60_000,
      syncRetentionMs: options.syncRetentionMs ?? 60_000,
      ttlMs: options.ttlMs ?? 86_400_000,
      executionTimeoutMs: options.executionTimeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS,
      maxRequeues: options.maxRequeues ?? 1,
      webhookRetryDelayMs: options.webhookRetryDelayMs ?? 10_000,
      failedKeepsOutput: options.failedKeepsOutput ?? false,
      sweepIntervalMs: options.sweepIntervalMs ?? 200,
    };
    this.sweeper = setInterval(() => this.sweep(), this.opts.sweepIntervalMs);
    this.sweeper.unref?.();
  }

  /** Stop timers and release every long-poll waiter. */
  close(): void {
    clearInterval(this.sweeper);
    for (const list of this.waiters.values()) for (const w of list.splice(0)) w.resolve(null);
    for (const release of [...this.stopWaiters.values()]) release();
  }

  /** Accept a job for an endpoint; it goes to a waiting worker at once or joins the queue. */
  submit(endpointId: string, body: JobRequest, sync: boolean, executionTimeoutMs?: number): EmulatedJob {
    const id = `${sync ? "sync-" : ""}${crypto.randomUUID()}-e1`;
    const policy: JobPolicy = { ...body.policy };
    if (policy.executionTimeout === undefined && executionTimeoutMs) policy.executionTimeout = executionTimeoutMs;
    const job: EmulatedJob = {
      id,
      endpointId,
      status: "IN_QUEUE",
      input: body.input,
      webhook: body.webhook,
      policy,
      s3Config: body.s3Config,
      sync,
      submittedAt: Date.now(),
      hasOutput: false,
      retries: 0,
      chunks: [],
      requeues: 0,
    };
    this.jobs.set(id, job);
    // Runpod accepts a job with empty or null input but never dispatches it: it stays IN_QUEUE until its TTL (runpod/flash
    // commit 02058db1, #302: the platform "silently times out on empty input instead of dispatching the job").
    if (!isEmptyInput(body.input)) this.enqueue(job);
    return job;
  }

  /** A job of this endpoint, or undefined when unknown, expired or of another endpoint. */
  get(endpointId: string, jobId: string): EmulatedJob | undefined {
    const job = this.jobs.get(jobId);
    return job && job.endpointId === endpointId ? job : undefined;
  }

  /** The public view of a job (terminal jobs always carry id, status, delayTime, executionTime, workerId). */
  view(job: EmulatedJob): JobObject {
    const out: JobObject = { id: job.id, status: job.status };
    if (job.takenAt !== undefined || isTerminal(job.status)) {
      out.delayTime = (job.takenAt ?? job.doneAt ?? Date.now()) - job.submittedAt;
    }
    if (job.takenAt !== undefined) out.executionTime = (job.doneAt ?? Date.now()) - job.takenAt;
    else if (isTerminal(job.status)) out.executionTime = 0;
    if (job.workerId !== undefined || isTerminal(job.status)) out.workerId = job.workerId ?? "";
    if (job.hasOutput && (job.status !== "FAILED" || this.opts.failedKeepsOutput)) out.output = job.output;
    if (job.error !== undefined) out.error = job.error;
    if (job.retries) out.retries = job.retries;
    return out;
  }

  /** Resolve when the job is terminal or `waitMs` passed, whichever first. */
  async waitTerminal(job: EmulatedJob, waitMs: number): Promise<void> {
    if (isTerminal(job.status) || waitMs <= 0) return;
    await new Promise<void>((resolve) => {
      const set = this.watchers.get(job.id) ?? new Set<Watcher>();
      this.watchers.set(job.id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      set.add(done);
    });
  }

  /** Hand the next queued job of an endpoint to a worker, holding the request up to `holdMs` for one to arrive. */
  take(endpointId: string, workerId: string, holdMs: number): Promise<EmulatedJob | null> {
    const job = this.dequeue(endpointId);
    if (job) return Promise.resolve(this.start(job, workerId));
    if (holdMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const list = this.waiters.get(endpointId) ?? [];
      this.waiters.set(endpointId, list);
      const waiter: Waiter = {
        workerId,
        resolve: (j) => {
          clearTimeout(timer);
          resolve(j);
        },
      };
      const timer = setTimeout(() => {
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        resolve(null);
      }, holdMs);
      list.push(waiter);
    });
  }

  /**
   * Tell a worker to stop a job (cancel, execution timeout) through its stop channel: the next `job-stop` poll of
   * that worker answers `{"jobsToStop": [...]}` (runpod/runpod-python@07fc6e2 serverless/modules/rp_job.py
   * `get_stop_signals`, rp_scale.py `monitor_stop_signals`).
   */
  requestStop(workerId: string, jobId: string): void {
    const pending = this.stops.get(workerId) ?? [];
    this.stops.set(workerId, pending);
    if (!pending.includes(jobId)) pending.push(jobId);
    const waiter = this.stopWaiters.get(workerId);
    if (waiter) waiter();
  }

  /** A worker's `job-stop` long-poll: the job ids to stop, waiting up to `holdMs` for one; [] when none came. */
  async takeStops(workerId: string, holdMs: number): Promise<string[]> {
    if (!this.stops.get(workerId)?.length && holdMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          if (this.stopWaiters.get(workerId) === done) this.stopWaiters.delete(workerId);
          resolve();
        };
        const timer = setTimeout(done, holdMs);
        this.stopWaiters.get(workerId)?.();
        this.stopWaiters.set(workerId, done);
      });
    }
    const ids = this.stops.get(workerId) ?? [];
    this.stops.delete(workerId);
    return ids;
  }

  /** Forget a worker's stop channel (it exited). */
  dropStops(workerId: string): void {
    this.stops.delete(workerId);
    this.stopWaiters.get(workerId)?.();
  }

  /** Release the long-poll of a worker that is going away (its pending take answers "no job"). */
  dropWaiter(endpointId: string, workerId: string): void {
    const list = this.waiters.get(endpointId);
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.workerId === workerId) list.splice(i, 1)[0]!.resolve(null);
    }
  }

  /**
   * What a worker posted to job-done: `{output}` → COMPLETED, `{error}` → FAILED, `{status:"IN_PROGRESS", output}`
   * → progress. Returns false when the job is unknown or no longer this worker's (a late post is ignored).
   */
  finish(
    endpointId: string,
    workerId: string,
    jobId: string,
    body: Record<string, unknown>,
    isStream: boolean,
  ): boolean {
    const job = this.get(endpointId, jobId);
    if (!job || job.status !== "IN_PROGRESS" || job.workerId !== workerId) return false;
    if (body.status === "IN_PROGRESS") {
      job.output = body.output;
      job.hasOutput = "output" in body;
      return true;
    }
    if (
      "output" in body &&
      !(isStream && Array.isArray(body.output) && body.output.length === 0 && job.chunks.length)
    ) {
      job.output = body.output;
      job.hasOutput = true;
    }
    if (body.error !== undefined && body.error !== null) {
      job.error = typeof body.error === "string" ? body.error : JSON.stringify(body.error);
      this.settle(job, "FAILED");
    } else {
      this.settle(job, "COMPLETED");
    }
    return true;
  }

  /** A stream chunk a worker posted to job-stream. */
  pushChunk(endpointId: string, workerId: string, jobId: string, body: Record<string, unknown>): boolean {
    const job = this.get(endpointId, jobId);
    if (!job || job.status !== "IN_PROGRESS" || job.workerId !== workerId) return false;
    job.chunks.push(body.output);
    return true;
  }

  /** Read and consume the chunks produced since the previous read. */
  readStream(job: EmulatedJob): { status: JobStatus; stream: { output: unknown }[] } {
    const stream = job.chunks.splice(0).map((output) => ({ output }));
    return { status: job.status, stream };
  }

  /** Cancel a queued or running job (a terminal job keeps its status). */
  cancel(job: EmulatedJob): void {
    if (isTerminal(job.status)) return;
    const wasRunning = job.status === "IN_PROGRESS";
    this.removeFromQueue(job);
    this.settle(job, "CANCELLED");
    if (wasRunning) this.onStop(job, "CANCELLED");
  }

  /** Put a FAILED or TIMED_OUT job back in the queue under the same id; false if it is not retryable. */
  retry(job: EmulatedJob): boolean {
    if (job.status !== "FAILED" && job.status !== "TIMED_OUT") return false;
    Object.assign(job, {
      status: "IN_QUEUE",
      output: undefined,
      hasOutput: false,
      error: undefined,
      takenAt: undefined,
      doneAt: undefined,
      workerId: undefined,
      chunks: [],
    });
    job.retries++;
    job.submittedAt = Date.now();
    this.count(job.endpointId).retried++;
    this.enqueue(job);
    return true;
  }

  /** Remove every queued job of an endpoint (running jobs continue); returns how many. */
  purge(endpointId: string): number {
    const queue = this.queues.get(endpointId) ?? [];
    const removed = queue.splice(0);
    for (const id of removed) this.jobs.delete(id);
    return removed.length;
  }

  /** The worker running a job died: requeue it (bounded) or fail it with a message that says so. */
  workerLost(workerId: string, reason: string): void {
    for (const job of this.jobs.values()) {
      if (job.workerId !== workerId || job.status !== "IN_PROGRESS") continue;
      if (job.requeues < this.opts.maxRequeues) {
        job.requeues++;
        this.count(job.endpointId).retried++;
        Object.assign(job, {
          status: "IN_QUEUE",
          takenAt: undefined,
          workerId: undefined,
          output: undefined,
          hasOutput: false,
        });
        elog.warn(`job ${job.id}: worker ${workerId} ${reason}; requeued (${job.requeues}/${this.opts.maxRequeues})`);
        this.enqueue(job, true);
      } else {
        job.error = `worker ${workerId} ${reason} while running the job`;
        this.settle(job, "FAILED");
      }
    }
  }

  /** Job counters of `/health`. */
  jobCounts(endpointId: string): EndpointHealth["jobs"] {
    let inQueue = 0;
    let inProgress = 0;
    for (const job of this.jobs.values()) {
      if (job.endpointId !== endpointId) continue;
      if (job.status === "IN_QUEUE") inQueue++;
      else if (job.status === "IN_PROGRESS") inProgress++;
    }
    const c = this.count(endpointId);
    return { completed: c.completed, failed: c.failed, inProgress, inQueue, retried: c.retried };
  }

  /** How many jobs of an endpoint a worker is running. */
  runningOn(endpointId: string, workerId: string): number {
    let n = 0;
    for (const job of this.jobs.values())
      if (job.endpointId === endpointId && job.workerId === workerId && job.status === "IN_PROGRESS") n++;
    return n;
  }

  /** Queued plus running jobs of an endpoint (what scaling looks at). */
  demand(endpointId: string): number {
    const c = this.jobCounts(endpointId);
    return c.inQueue + c.inProgress;
  }

  /** Forget an endpoint's jobs (the endpoint was deleted). */
  dropEndpoint(endpointId: string): void {
    for (const [id, job] of this.jobs) if (job.endpointId === endpointId) this.jobs.delete(id);
    this.queues.delete(endpointId);
    for (const w of this.waiters.get(endpointId)?.splice(0) ?? []) w.resolve(null);
  }

  private enqueue(job: EmulatedJob, front = false): void {
    const waiting = this.waiters.get(job.endpointId);
    const waiter = waiting?.shift();
    if (waiter) {
      waiter.resolve(this.start(job, waiter.workerId));
      this.onChange(job.endpointId);
      return;
    }
    const queue = this.queues.get(job.endpointId) ?? [];
    this.queues.set(job.endpointId, queue);
    if (front) queue.unshift(job.id);
    else queue.push(job.id);
    this.onChange(job.endpointId);
  }

  private dequeue(endpointId: string): EmulatedJob | undefined {
    const queue = this.queues.get(endpointId);
    while (queue?.length) {
      const job = this.jobs.get(queue.shift()!);
      if (job?.status === "IN_QUEUE") return job;
    }
    return undefined;
  }

  private removeFromQueue(job: EmulatedJob): void {
    const queue = this.queues.get(job.endpointId);
    const i = queue?.indexOf(job.id) ?? -1;
    if (i >= 0) queue!.splice(i, 1);
  }

  private start(job: EmulatedJob, workerId: string): EmulatedJob {
    job.status = "IN_PROGRESS";
    job.workerId = workerId;
    job.takenAt = Date.now();
    return job;
  }

  private settle(job: EmulatedJob, status: JobStatus): void {
    job.status = status;
    job.doneAt = Date.now();
    if (status === "COMPLETED") this.count(job.endpointId).completed++;
    if (status === "FAILED" || status === "TIMED_OUT") this.count(job.endpointId).failed++;
    for (const notify of [...(this.watchers.get(job.id) ?? [])]) notify();
    this.watchers.delete(job.id);
    if (job.webhook) void this.sendWebhook(job.webhook, this.view(job));
    this.onChange(job.endpointId);
  }

  private async sendWebhook(url: string, body: JobObject): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        if (res.ok) return;
        elog.warn(`webhook for job ${body.id} answered ${res.status} (attempt ${attempt}/3)`);
      } catch (err) {
        elog.warn(`webhook for job ${body.id} failed: ${(err as Error).message} (attempt ${attempt}/3)`);
      }
      if (attempt < 3) await Bun.sleep(this.opts.webhookRetryDelayMs);
    }
  }

  private count(endpointId: string) {
    let c = this.counters.get(endpointId);
    if (!c) this.counters.set(endpointId, (c = { completed: 0, failed: 0, retried: 0 }));
    return c;
  }

  /** Time-driven transitions: execution timeout, TTL expiry and result retention. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, job] of this.jobs) {
      const ttl = job.policy.ttl ?? this.opts.ttlMs;
      if (now - job.submittedAt > ttl) {
        if (job.status === "IN_PROGRESS") this.onStop(job, "TIMED_OUT");
        this.removeFromQueue(job);
        this.jobs.delete(id);
        continue;
      }
      if (job.status === "IN_PROGRESS" && job.takenAt !== undefined) {
        const limit = job.policy.executionTimeout || this.opts.executionTimeoutMs;
        if (now - job.takenAt > limit) {
          job.error = `execution timeout of ${limit} ms exceeded`;
          this.settle(job, "TIMED_OUT");
          this.onStop(job, "TIMED_OUT");
        }
        continue;
      }
      if (isTerminal(job.status) && job.doneAt !== undefined) {
        const keep = job.sync ? this.opts.syncRetentionMs : this.opts.retentionMs;
        if (now - job.doneAt > keep) this.jobs.delete(id);
      }
    }
  }
}
