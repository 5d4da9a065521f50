/**
 * The worker side of the queue (runpod-python runpod/serverless/modules/rp_job.py, rp_http.py, rp_ping.py):
 * `job-take` and `job-take-batch` long-polls, `job-done`, `job-stream` chunks, `ping` heartbeats and the `job-stop`
 * channel. Any worker id is accepted: real workers name themselves in the URL (runpod-python worker_state.py).
 */
import { Elysia, t } from "elysia";
import type { EmulatedJob } from "../job-store";
import { type EmulatorContext, jsonError } from "./context";

/** Worker bodies come as text whatever their content type (rp_http.py posts JSON with a form type). */
const TextBody = {
  parse: "text" as const,
  body: t.Optional(t.String()),
  query: t.Object({ isStream: t.Optional(t.String()) }, { additionalProperties: true }),
};

/** A worker's body as a JSON object, or a 400 that says why it is not one (`shape` describes the object wanted). */
function jsonObjectBody(body: unknown, route: string, shape = "a JSON object"): Record<string, unknown> | Response {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(body ?? ""));
  } catch {
    return jsonError(400, `${route} body must be JSON`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    return jsonError(400, `${route} body must be ${shape}`);
  return parsed as Record<string, unknown>;
}

/** The worker API plane. */
export function workerApi(ctx: EmulatorContext) {
  const { store, supervisor, takeHoldMs } = ctx;
  /** The worker behind a worker route, attaching unknown ids; a 400 for an id that belongs to another endpoint. */
  const refused = (endpointId: string, workerId: string): Response | undefined => {
    if (!ctx.control.endpoints.has(endpointId)) return jsonError(404, `endpoint ${endpointId} not found`);
    if (!supervisor.attach(endpointId, workerId))
      return jsonError(400, `worker ${workerId} belongs to another endpoint`);
    return undefined;
  };
  const notRunning = (jobId: string, workerId: string) =>
    jsonError(404, `job ${jobId} is not running on worker ${workerId}`);
  return (
    new Elysia()
      .get("/v2/:ep/job-take/:wid", async ({ params, set }) => {
        const no = refused(params.ep, params.wid);
        if (no) return no;
        supervisor.taking(params.wid);
        const job = await store.take(params.ep, params.wid, takeHoldMs);
        if (!job) {
          set.status = 204;
          return "";
        }
        supervisor.running(params.wid);
        return takePayload(job);
      })
      .get(
        "/v2/:ep/job-take-batch/:wid",
        async ({ params, query, set }) => {
          const no = refused(params.ep, params.wid);
          if (no) return no;
          // A worker that runs several jobs at once asks for more while some still run (runpod-python
          // rp_job.py: `job_in_progress=1`): it is not idle then.
          if (query.job_in_progress !== "1") supervisor.taking(params.wid);
          const size = Math.max(1, Number(query.batch_size ?? 1));
          const first = await store.take(params.ep, params.wid, takeHoldMs);
          if (!first) {
            set.status = 204;
            return "";
          }
          const jobs = [first];
          while (jobs.length < size) {
            const next = await store.take(params.ep, params.wid, 0);
            if (!next) break;
            jobs.push(next);
          }
          supervisor.running(params.wid);
          return jobs.map(takePayload);
        },
        {
          query: t.Object(
            { batch_size: t.Optional(t.Numeric()), job_in_progress: t.Optional(t.String()) },
            { additionalProperties: true },
          ),
        },
      )
      .post(
        "/v2/:ep/job-done/:wid/:job",
        ({ params, body, query }) => {
          const no = refused(params.ep, params.wid);
          if (no) return no;
          const result = jsonObjectBody(body, "job-done");
          if (result instanceof Response) return result;
          const accepted = store.finish(params.ep, params.wid, params.job, result, query.isStream === "true");
          if (!accepted) return notRunning(params.job, params.wid);
          // Idle once its last job ended (a worker with maxConcurrency may still run others).
          if (result.status !== "IN_PROGRESS" && store.runningOn(params.ep, params.wid) === 0)
            supervisor.taking(params.wid);
          return { ok: true };
        },
        TextBody,
      )
      // A generator handler's chunk: runpod-python rp_job.py `handle_job` posts each yielded value through rp_http.py
      // `stream_result` to RUNPOD_WEBHOOK_POST_STREAM (`$ID` → the job, then `&isStream=false`) as the JSON text
      // `{"output": chunk}`, with a form content type (parsed as JSON whatever the type, as job-done is). The chunk
      // is readable once, through /stream/{job}, in the order posted.
      .post(
        "/v2/:ep/job-stream/:wid/:job",
        ({ params, body }) => {
          const no = refused(params.ep, params.wid);
          if (no) return no;
          const shape = 'a JSON object {"output": <chunk>}';
          const chunk = jsonObjectBody(body, "job-stream", shape);
          if (chunk instanceof Response) return chunk;
          if (!("output" in chunk)) return jsonError(400, `job-stream body must be ${shape}`);
          return store.pushChunk(params.ep, params.wid, params.job, chunk)
            ? { ok: true }
            : notRunning(params.job, params.wid);
        },
        TextBody,
      )
      .get("/v2/:ep/ping/:wid", ({ params }) => {
        const no = refused(params.ep, params.wid);
        if (no) return no;
        supervisor.pinged(params.wid);
        return { ok: true };
      })
      // The stop channel (runpod-python rp_job.py `get_stop_signals`): a long-poll that answers 204, or 200
      // `{"jobsToStop": [jobId, ...]}` once a job this worker holds was cancelled or timed out.
      .get("/v2/:ep/job-stop/:wid", async ({ params, set }) => {
        const no = refused(params.ep, params.wid);
        if (no) return no;
        supervisor.listensForStops(params.wid);
        const ids = await store.takeStops(params.wid, takeHoldMs);
        if (!ids.length) {
          set.status = 204;
          return "";
        }
        return { jobsToStop: ids };
      })
  );
}

/** What a worker gets for a job it took (runpod-python rp_job.py `get_job`). */
function takePayload(job: EmulatedJob): Record<string, unknown> {
  const out: Record<string, unknown> = { id: job.id, input: job.input };
  if (job.webhook) out.webhook = job.webhook;
  if (job.s3Config) out.s3Config = job.s3Config;
  if (job.policy && Object.keys(job.policy).length) out.policy = job.policy;
  return out;
}
