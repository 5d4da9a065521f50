/**
 * The queue REST API a client calls (https://docs.runpod.io/serverless/endpoints/send-requests; job operations:
 * https://docs.runpod.io/serverless/endpoints/job-operations): run, runsync, status, status-sync, stream, cancel,
 * retry, purge-queue and health.
 */
import { Elysia, t } from "elysia";
import type { JobRequest } from "../../runpod/api";
import type { EmulatedEndpoint } from "../control-plane";
import type { EmulatedJob } from "../job-store";
import { type EmulatorContext, endpointOf, jsonError } from "./context";

const JobBody = t.Object(
  {
    input: t.Any({ description: "Handler input; required" }),
    webhook: t.Optional(t.String()),
    webhookV2: t.Optional(t.String()),
    policy: t.Optional(
      t.Object(
        { executionTimeout: t.Optional(t.Number()), lowPriority: t.Optional(t.Boolean()), ttl: t.Optional(t.Number()) },
        { additionalProperties: true },
      ),
    ),
    s3Config: t.Optional(t.Record(t.String(), t.Any())),
  },
  { additionalProperties: true },
);
const WaitQuery = t.Object({ wait: t.Optional(t.Numeric()) }, { additionalProperties: true });

/** The queue API plane. */
export function queueApi(ctx: EmulatorContext) {
  const { store } = ctx;
  /** Clamp `wait` like Runpod: 1000 (`minSyncWaitMs`) to 300000 ms, default 90000. */
  const clampWait = (wait: number | undefined): number => {
    if (wait === undefined || !Number.isFinite(wait)) return 90_000;
    return Math.min(300_000, Math.max(ctx.minSyncWaitMs, wait));
  };
  const queueEndpoint = (id: string): EmulatedEndpoint | Response => {
    const e = endpointOf(ctx, id);
    if (!(e instanceof Response) && e.type === "LB")
      return jsonError(400, "not allowed for LB endpoint; call https://{id}.api.runpod.ai/{path}");
    return e;
  };
  const jobOf = (endpointId: string, jobId: string): EmulatedJob | Response => {
    const e = queueEndpoint(endpointId);
    if (e instanceof Response) return e;
    return store.get(endpointId, jobId) ?? jsonError(404, `job ${jobId} not found`);
  };
  type JobParams = { ep: string; job: string };
  const status = (params: JobParams) => {
    const job = jobOf(params.ep, params.job);
    return job instanceof Response ? job : store.view(job);
  };
  const statusSync = async (params: JobParams, query: { wait?: number }) => {
    const job = jobOf(params.ep, params.job);
    if (job instanceof Response) return job;
    await store.waitTerminal(job, clampWait(query.wait));
    return store.view(job);
  };
  // /stream/{job} (docs serverless/endpoints/job-operations "Stream results"; runpod-python runpod/endpoint/runner.py
  // `Job.stream()`): `{status, stream: [{output}, ...]}` with the chunks posted since the previous read, which it
  // consumes; once the job is final and every chunk was read, `stream` is empty (the reader's signal to stop).
  const stream = async (params: JobParams, query: { wait?: number }) => {
    const job = jobOf(params.ep, params.job);
    if (job instanceof Response) return job;
    // Hold briefly for news so that clients which poll without sleeping (runpod-sdk) do not spin.
    const hold = Math.min(query.wait ?? 250, 5000);
    if (!job.chunks.length) await Promise.race([store.waitTerminal(job, hold), waitChunk(job, hold)]);
    return store.readStream(job);
  };
  const submit = (endpointId: string, body: Record<string, unknown>, sync: boolean) => {
    const e = queueEndpoint(endpointId);
    if (e instanceof Response) return e;
    if (!("input" in body) || body.input === undefined) return jsonError(400, "input is required");
    return store.submit(e.id, body as unknown as JobRequest, sync, e.executionTimeoutMs);
  };
  return new Elysia()
    .post(
      "/v2/:ep/run",
      ({ params, body }) => {
        const job = submit(params.ep, body, false);
        // Runpod acknowledges a submission as IN_QUEUE even when a waiting worker took it at once.
        return job instanceof Response ? job : { id: job.id, status: "IN_QUEUE" };
      },
      { body: JobBody },
    )
    .post(
      "/v2/:ep/runsync",
      async ({ params, body, query }) => {
        const job = submit(params.ep, body, true);
        if (job instanceof Response) return job;
        await store.waitTerminal(job, clampWait(query.wait));
        return store.view(job);
      },
      { body: JobBody, query: WaitQuery },
    )
    .get("/v2/:ep/status/:job", ({ params }) => status(params))
    .post("/v2/:ep/status/:job", ({ params }) => status(params))
    .get("/v2/:ep/status-sync/:job", ({ params, query }) => statusSync(params, query), { query: WaitQuery })
    .post("/v2/:ep/status-sync/:job", ({ params, query }) => statusSync(params, query), { query: WaitQuery })
    .get("/v2/:ep/stream/:job", ({ params, query }) => stream(params, query), { query: WaitQuery })
    .post("/v2/:ep/stream/:job", ({ params, query }) => stream(params, query), { query: WaitQuery })
    .post("/v2/:ep/cancel/:job", ({ params }) => {
      const job = jobOf(params.ep, params.job);
      if (job instanceof Response) return job;
      store.cancel(job);
      return { id: job.id, status: job.status };
    })
    .post("/v2/:ep/retry/:job", ({ params }) => {
      const job = jobOf(params.ep, params.job);
      if (job instanceof Response) return job;
      if (!store.retry(job))
        return jsonError(400, `job ${job.id} is ${job.status}; only FAILED or TIMED_OUT jobs can be retried`);
      return { id: job.id, status: "IN_QUEUE" };
    })
    .post("/v2/:ep/purge-queue", ({ params }) => {
      const e = queueEndpoint(params.ep);
      if (e instanceof Response) return e;
      return { removed: store.purge(e.id), status: "completed" };
    })
    .get("/v2/:ep/health", ({ params }) => {
      const e = endpointOf(ctx, params.ep);
      if (e instanceof Response) return e;
      return { jobs: store.jobCounts(e.id), workers: ctx.supervisor.counts(e.id) };
    });
}

async function waitChunk(job: EmulatedJob, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!job.chunks.length && Date.now() < until) await Bun.sleep(10);
}
