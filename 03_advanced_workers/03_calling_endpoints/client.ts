import { timingSafeEqual } from "node:crypto";
/**
 * Calling an existing Runpod endpoint with the official JavaScript client, runpod-sdk: synchronously (runsync),
 * asynchronously (run, then status), with a webhook, and as a batch. Settings are read when a call is made, never at
 * import time: RUNPOD_API_KEY, TARGET_ENDPOINT_ID and RUNPOD_ENDPOINT_BASE_URL (Runpod's https://api.runpod.ai/v2 by
 * default; the emulator's URL in tests).
 */
// runpod-sdk (and the HTTP client it brings) is imported on the first call, not when the server starts: it is most
// of this example's load time (67–134 ms of `flash run` start-up when imported at the top).
let sdk: Promise<typeof import("runpod-sdk").default> | undefined;
const loadSdk = () => (sdk ??= import("runpod-sdk").then((m) => m.default));

/** Runpod's job API base URL (runpod-sdk's runpodServerlessBaseUrlProd). */
export const RUNPOD_ENDPOINT_BASE = "https://api.runpod.ai/v2";

/** Limits of this example's routes. */
export const LIMITS = { maxBatch: 50, maxWaitS: 300, pollMs: 250 } as const;

/** A job as Runpod's /status answers it (the fields this example reads). */
export interface Job {
  id: string;
  status: "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "CANCELLED" | "TIMED_OUT" | string;
  output?: unknown;
  error?: string;
  delayTime?: number;
  executionTime?: number;
}

/** The endpoint is not configured: the route answers 503 with what to set. */
export class NotConfigured extends Error {
  override name = "NotConfigured";
  readonly status = 503;
}

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]);

/** Whether a job has finished (successfully or not). */
export const isTerminal = (job: Job) => TERMINAL.has(job.status);

/** The endpoint named by the environment, as a runpod-sdk endpoint object. */
export async function endpoint() {
  const key = process.env.RUNPOD_API_KEY;
  const id = process.env.TARGET_ENDPOINT_ID;
  if (!key || !id) {
    throw new NotConfigured("set TARGET_ENDPOINT_ID (the endpoint to call) and RUNPOD_API_KEY in .env");
  }
  const baseUrl = process.env.RUNPOD_ENDPOINT_BASE_URL || RUNPOD_ENDPOINT_BASE;
  return (await loadSdk())(key, { baseUrl }).endpoint(id)!;
}

/** Only what a client should see of a job (no worker ids or internal fields). */
export function jobView(job: Job): Job {
  const view: Job = { id: job.id, status: job.status };
  if (job.output !== undefined) view.output = job.output;
  if (job.error !== undefined) view.error = job.error;
  if (job.delayTime !== undefined) view.delayTime = job.delayTime;
  if (job.executionTime !== undefined) view.executionTime = job.executionTime;
  return view;
}

/** runsync: submit and wait (Runpod holds the request up to `waitS` seconds, then the SDK polls /status-sync). */
export async function runSync(input: unknown, waitS = 90): Promise<Job> {
  return jobView((await (await endpoint()).runSync({ input }, waitS * 1000)) as Job);
}

/** run: submit and return at once with the job id; Runpod POSTs the finished job to `webhook` when one is given. */
export async function runAsync(input: unknown, webhook?: string): Promise<Job> {
  return jobView((await (await endpoint()).run(webhook ? { input, webhook } : { input })) as Job);
}

/** status: one look at a job. */
export async function status(id: string): Promise<Job> {
  return jobView((await (await endpoint()).status(id)) as Job);
}

/** Poll a job until it is terminal or `waitS` seconds have passed (then it is returned as it is). */
export async function waitFor(id: string, waitS: number): Promise<Job> {
  const ep = await endpoint();
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const job = (await ep.status(id)) as Job;
    if (isTerminal(job) || Date.now() > deadline) return jobView(job);
    await Bun.sleep(LIMITS.pollMs);
  }
}

/** A batch: submit every input with run (Runpod queues them and scales workers), then wait for all of them. */
export async function batch(inputs: unknown[], waitS: number) {
  const started = performance.now();
  const ep = await endpoint();
  const submitted = (await Promise.all(inputs.map((input) => ep.run({ input })))) as Job[];
  const jobs = await Promise.all(submitted.map((j) => waitFor(j.id, waitS)));
  return {
    jobs,
    completed: jobs.filter((j) => j.status === "COMPLETED").length,
    failed: jobs.filter((j) => isTerminal(j) && j.status !== "COMPLETED").length,
    pending: jobs.filter((j) => !isTerminal(j)).length,
    batch_ms: Math.round(performance.now() - started),
  };
}

let generatedSecret: string | undefined;

/**
 * The secret a webhook URL carries (`?token=`): Runpod signs nothing it POSTs (docs: send-requests, webhooks), so
 * the receiver knows a post came from a job it submitted only by a value in the URL it gave. `WEBHOOK_SECRET` when
 * set (every replica of the app must agree), else a random one for this process.
 */
export function webhookSecret(): string {
  const fromEnv = process.env.WEBHOOK_SECRET;
  if (fromEnv) return fromEnv;
  generatedSecret ??= Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  return generatedSecret;
}

/** Whether `token` is the webhook secret (compared in constant time). */
export function isWebhookToken(token: string | undefined): boolean {
  const want = Buffer.from(webhookSecret());
  const got = Buffer.from(token ?? "");
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Finished jobs that arrived by webhook, newest last; bounded so a chatty endpoint cannot fill the memory. */
export class WebhookInbox {
  private readonly jobs = new Map<string, { job: Job; received_at: string }>();
  constructor(private readonly max = 1000) {}

  /** Keep a job Runpod posted. */
  add(job: Job): void {
    this.jobs.delete(job.id);
    this.jobs.set(job.id, { job: jobView(job), received_at: new Date().toISOString() });
    while (this.jobs.size > this.max) this.jobs.delete(this.jobs.keys().next().value!);
  }

  /** The job with this id, if its webhook arrived. */
  get(id: string) {
    return this.jobs.get(id);
  }
}
