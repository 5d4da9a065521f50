import { Elysia, t } from "flash";
import {
  batch,
  isWebhookToken,
  LIMITS,
  NotConfigured,
  runAsync,
  runSync,
  status,
  waitFor,
  WebhookInbox,
  webhookSecret,
} from "./client";

// No file reads, no network and no settings read at import time: client.ts reads the environment on each call.

const inbox = new WebhookInbox();

const Job = t.Object({
  id: t.String(),
  status: t.String({ description: "IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED, CANCELLED or TIMED_OUT" }),
  output: t.Optional(t.Unknown()),
  error: t.Optional(t.String()),
  delayTime: t.Optional(t.Number({ description: "ms in the queue" })),
  executionTime: t.Optional(t.Number({ description: "ms on a worker" })),
});
const Input = t.Record(t.String(), t.Unknown(), {
  description: "The endpoint's job input (what its handler reads)",
  examples: [{ text: "hello from flash" }],
});
const WaitS = t.Integer({
  minimum: 1,
  maximum: LIMITS.maxWaitS,
  default: 60,
  description: `Seconds to wait for the result (1–${LIMITS.maxWaitS})`,
  error: `wait_s must be a whole number from 1 to ${LIMITS.maxWaitS}`,
});

/**
 * What the client sees when the call to Runpod fails: the missing settings (503), or Runpod's HTTP status (502).
 * Never the error object: runpod-sdk's errors carry the request, and its headers carry the API key.
 */
function upstreamError(error: unknown, set: { status?: number | string }) {
  if (error instanceof NotConfigured) {
    set.status = 503;
    return { error: "not_configured", message: error.message };
  }
  const answered = (error as { response?: { status?: number } })?.response?.status;
  if (typeof answered === "number") {
    set.status = 502;
    const why =
      answered === 401
        ? " (check RUNPOD_API_KEY)"
        : answered === 404
          ? " (check TARGET_ENDPOINT_ID, or the job id)"
          : "";
    return { error: "upstream_error", message: `the endpoint's API answered ${answered}${why}` };
  }
  return undefined; // anything else is flash's generic 500, with the detail in the log
}

/** Routes that call an existing Runpod endpoint (TARGET_ENDPOINT_ID) with runpod-sdk. */
export const api_router = new Elysia()
  .onError(({ error, set }) => upstreamError(error, set))
  .post("/runsync", ({ body }) => runSync(body.input, body.wait_s), {
    body: t.Object(
      { input: Input, wait_s: t.Optional(WaitS) },
      { examples: [{ input: { text: "hello from flash" } }] },
    ),
    response: { 200: Job },
    detail: {
      summary: "Run a job and wait for its result (runsync)",
      description: "A failed job is still a 200: read `status` and `error`.",
    },
  })
  .post(
    "/run",
    ({ body, request }) => {
      // Where Runpod should POST the finished job: this server, unless WEBHOOK_BASE_URL names a public address.
      const base = process.env.WEBHOOK_BASE_URL || new URL(request.url).origin;
      // The secret in the URL is how the receiver tells Runpod's post from a forged one.
      const hook = body.webhook
        ? `${base}/03_advanced_workers/03_calling_endpoints/webhook?token=${encodeURIComponent(webhookSecret())}`
        : undefined;
      return runAsync(body.input, hook);
    },
    {
      body: t.Object(
        {
          input: Input,
          webhook: t.Optional(t.Boolean({ default: false, description: "Have Runpod POST the result here" })),
        },
        { examples: [{ input: { text: "hello", sleep_ms: 500 }, webhook: true }] },
      ),
      response: { 200: Job },
      detail: { summary: "Submit a job and return its id at once (run)" },
    },
  )
  .get("/status/:id", ({ params }) => status(params.id), {
    params: t.Object({ id: t.String({ minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9_-]+$" }) }),
    response: { 200: Job },
    detail: { summary: "The job's status (and output once it is done)" },
  })
  .get("/wait/:id", ({ params, query }) => waitFor(params.id, query.wait_s ?? 60), {
    params: t.Object({ id: t.String({ minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9_-]+$" }) }),
    // A query value is text: Elysia reads "30" as 30 for a t.Number (a t.Integer stays the string "30").
    query: t.Object({
      wait_s: t.Optional(
        t.Number({
          minimum: 1,
          maximum: LIMITS.maxWaitS,
          multipleOf: 1,
          error: `wait_s must be a whole number from 1 to ${LIMITS.maxWaitS}`,
        }),
      ),
    }),
    response: { 200: Job },
    detail: { summary: "Poll the job's status until it is done, or wait_s passed" },
  })
  .post("/batch", ({ body }) => batch(body.inputs, body.wait_s ?? 120), {
    body: t.Object(
      {
        inputs: t.Array(Input, {
          minItems: 1,
          maxItems: LIMITS.maxBatch,
          error: `inputs must be a list of 1 to ${LIMITS.maxBatch} job inputs`,
        }),
        wait_s: t.Optional(WaitS),
      },
      { examples: [{ inputs: [{ text: "one" }, { text: "two words" }] }] },
    ),
    response: {
      200: t.Object({
        jobs: t.Array(Job),
        completed: t.Integer(),
        failed: t.Integer(),
        pending: t.Integer(),
        batch_ms: t.Number(),
      }),
    },
    detail: { summary: "Submit many jobs with run, then wait for all of them" },
  })
  .post(
    "/webhook",
    ({ body, query, set }) => {
      if (!isWebhookToken(query.token)) {
        set.status = 401;
        return { error: "unauthorized", message: "not a webhook this app asked for: the token is missing or wrong" };
      }
      inbox.add(body);
      return { received: true, id: body.id };
    },
    {
      body: t.Object({ id: t.String(), status: t.String() }, { additionalProperties: true }),
      query: t.Object({ token: t.Optional(t.String({ maxLength: 200 })) }),
      response: {
        200: t.Object({ received: t.Boolean(), id: t.String() }),
        401: t.Object({ error: t.String(), message: t.String() }),
      },
      detail: { summary: "Receiver for Runpod's webhook: the finished job, as /status would answer it" },
    },
  )
  .get(
    "/webhook/:id",
    ({ params, set }) => {
      const got = inbox.get(params.id);
      if (got) return got;
      set.status = 404;
      return { error: "not_found", message: `no webhook received for job ${params.id} (yet)` };
    },
    {
      response: {
        200: t.Object({ job: Job, received_at: t.String({ format: "date-time" }) }),
        404: t.Object({ error: t.String(), message: t.String() }),
      },
      detail: { summary: "The job a webhook delivered, if it arrived" },
    },
  );
