/**
 * Shapes of the Runpod serverless job API (https://docs.runpod.io/serverless/endpoints/send-requests; runpod-python runpod/serverless/modules/rp_job.py), shared by our client, the emulator and the
 * worker program so that all three agree on field names and status values.
 */

/** Every status a job can be in; the last four are terminal. */
export type JobStatus = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "CANCELLED" | "TIMED_OUT";

/** Statuses after which a job never changes again (the JS and Go SDKs' set). */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]);

/** Whether a status is terminal. */
export function isTerminal(status: string | undefined): boolean {
  return status !== undefined && TERMINAL_STATUSES.has(status);
}

/** A job as `/status/{id}`, `/runsync` and webhooks return it. */
/**
 * A `/stream/{job}` reply: the job's status and the chunks its worker posted to job-stream since the previous read
 * (each read consumes them). runpod-python runpod/endpoint/runner.py `Job.stream()` reads `status` and `stream`,
 * yields each `chunk["output"]`, and stops at a final status with an empty `stream`.
 */
export interface StreamReply {
  status: JobStatus;
  stream?: { output: unknown }[];
}

export interface JobObject {
  id: string;
  status: JobStatus;
  delayTime?: number;
  executionTime?: number;
  workerId?: string;
  output?: unknown;
  error?: string;
  retries?: number;
}

/** Per-job execution policy (ms). */
export interface JobPolicy {
  executionTimeout?: number;
  lowPriority?: boolean;
  ttl?: number;
}

/** Body of `/run` and `/runsync`. */
export interface JobRequest {
  input: unknown;
  webhook?: string;
  policy?: JobPolicy;
  s3Config?: Record<string, unknown>;
}

/** `/health` of an endpoint: all five job and six worker counters. */
export interface EndpointHealth {
  jobs: { completed: number; failed: number; inProgress: number; inQueue: number; retried: number };
  workers: { idle: number; initializing: number; ready: number; running: number; throttled: number; unhealthy: number };
}

/** The module flash ships with each call: bundled code keyed by content hash, at its workspace-relative path. */
export interface ShippedBundle {
  /** Workspace-relative path of the function's module (`01_getting_started/01_hello_world/gpu_worker.ts`). */
  path: string;
  /** sha256 of `code` (hex, 16 chars); the worker caches bundles by it. */
  hash: string;
  /**
   * The module and its local imports bundled by Bun.build (npm packages and "flash" left as imports). Sent once
   * per endpoint and hash; later calls carry only the hash, and a worker that lacks it answers `missing`.
   */
  code?: string;
}

/** flash's worker program as a call carries it to a default-image worker (its bootstrap keeps it by hash). */
export interface ShippedProgram {
  hash: string;
  /** File name → content (`main.js` and the chunks it imports). */
  files?: Record<string, string>;
}

/** The `input` of every job flash sends: the bundle plus the executor's request (its `module` is `bundle.path`). */
export interface ShippedCall {
  flash: 1;
  /** Default images only: the worker program the template's bootstrap runs (FLASH_WORKER_HASH names it). */
  worker?: ShippedProgram;
  bundle: ShippedBundle;
  request: import("../remote/protocol").FunctionRequest;
}

/** What a worker answers, instead of running the call, when it lacks code a call names only by hash. */
export type MissingCode = "worker" | "bundle";
