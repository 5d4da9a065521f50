import { Elysia, t } from "elysia";
import { validationBody } from "../base/errors";
import { logger } from "../base/log";
import type { JobRequest } from "../runpod/api";
import { LB_NO_WORKERS_TEXT, PAYLOAD_LIMITS } from "../runpod/platform";
import { ControlPlane, type ControlPlaneOptions, type EmulatedEndpoint } from "./control-plane";
import { restV1 } from "./rest-v1";
import { JobStore, type EmulatedJob, type StoreOptions } from "./job-store";
import { WorkerSupervisor, type SupervisorOptions } from "./supervisor";
import { APPS_GRAPHQL, FlashApps, UPLOAD_PREFIX } from "./flash-apps";
import { WorkerLogBook, workerLogRoutes } from "./worker-logs";

const elog = logger("emulator");

/** An error the emulator injects on matching requests (tests of retries on 429/5xx). */
interface Fault {
  /** HTTP status to answer with. */
  status: number;
  /** How many matching requests fail (then the fault is spent). */
  times: number;
  /** Only requests whose path contains this string (or matches this pattern); all requests when absent. */
  path?: string | RegExp;
  /** Only this method. */
  method?: string;
  /** Let this many matching requests through first (to fail, say, the third GraphQL call of a sequence). */
  after?: number;
}

/** Options of `startEmulator`. */
export interface EmulatorOptions extends StoreOptions {
  /** API key every client call must carry (Bearer or bare; `?api_key=` on GraphQL). */
  apiKey: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** How long `job-take` holds a worker's request open when no job waits, ms (Runpod: up to ~90 s). */
  takeHoldMs?: number;
  /** Worker subprocess options (command, image commands, env, heartbeat interval, LB wait, cold start). */
  workers?: Omit<SupervisorOptions, "baseUrl">;
  /** Control-plane rules (the 0/0 rule of deleteEndpoint, template deletion delay, LB port env). */
  control?: ControlPlaneOptions;
}

/** A running emulator: its URLs (what a client's base-URL settings point at), its state, and `stop()`. */
export interface Emulator {
  readonly url: string;
  /** Value for RUNPOD_API_BASE_URL (GraphQL at `${apiBaseUrl}/graphql`). */
  readonly apiBaseUrl: string;
  /** Value for RUNPOD_ENDPOINT_BASE_URL (`${url}/v2`). */
  readonly endpointBaseUrl: string;
  /** Value for RUNPOD_LB_BASE_URL (`${url}/lb/{id}`). */
  readonly lbBaseUrl: string;
  /** The REST control plane (`${url}/v1`; runpodctl's RUNPOD_API_URL). */
  readonly restBaseUrl: string;
  readonly store: JobStore;
  readonly control: ControlPlane;
  readonly supervisor: WorkerSupervisor;
  /** Flash apps, environments and builds. */
  readonly flashApps: FlashApps;
  /** Every worker's log lines (the v2 log routes read them). */
  readonly logs: WorkerLogBook;
  /** Make the next `times` matching requests fail with `status`. */
  fail(fault: Fault): void;
  /** Stop every worker and the HTTP server. */
  stop(): Promise<void>;
}

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
const GraphqlBody = t.Object({
  query: t.String({ minLength: 1 }),
  variables: t.Optional(t.Nullable(t.Record(t.String(), t.Any()))),
  operationName: t.Optional(t.Nullable(t.String())),
});

/** Clamp `wait` like Runpod: 1000–300000 ms, default 90000. */
function clampWait(wait: number | undefined): number {
  if (wait === undefined || !Number.isFinite(wait)) return 90_000;
  return Math.min(300_000, Math.max(1000, wait));
}

function bearer(header: string | null): string | undefined {
  if (!header) return undefined;
  return header.startsWith("Bearer ") ? header.slice(7).trim() : header.trim();
}

const err = (status: number, message: string) =>
  new Response(JSON.stringify({ error: message }), { status, headers: { "content-type": "application/json" } });

/** A fresh emulator-only API key (the user's real key is never sent to a local emulator). */
export function emulatorKey(): string {
  return `emu_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * Start a local Runpod: REST job routes, GraphQL control plane, worker routes and an LB proxy, with real worker
 * subprocesses per endpoint. Every client call needs `apiKey` (401 otherwise); the key is never logged or echoed.
 */
export function startEmulator(options: EmulatorOptions): Emulator {
  if (!options.apiKey) throw new Error("startEmulator needs an apiKey");
  const store = new JobStore(options);
  const control = new ControlPlane(options.control);
  let baseUrl = "";
  const flashApps = new FlashApps(control, () => baseUrl);
  control.extend(
    APPS_GRAPHQL,
    () => flashApps.resolvers(),
    () => ({ flashApps: () => flashApps.listApps() }),
  );
  const logBook = new WorkerLogBook();
  const supervisor = new WorkerSupervisor(store, control, {
    ...options.workers,
    baseUrl: () => baseUrl,
    envFor: (endpoint) => flashApps.workerEnv(endpoint),
    onLog: (worker, source, line) => logBook.record(worker, source, line),
  });
  store.onChange = (endpointId) => supervisor.rescale(endpointId);
  store.onStop = (job, reason) =>
    supervisor.stopJob(job.workerId, job.id, `job ${job.id} ${reason}`, reason === "TIMED_OUT");
  control.onEndpointChange = (endpoint, change) => {
    if (change === "deleted") store.dropEndpoint(endpoint.id);
    supervisor.rescale(endpoint.id);
  };
  const faults: Fault[] = [];
  const takeHoldMs = options.takeHoldMs ?? 20_000;

  const userAuthorized = (request: Request) => {
    const key =
      bearer(request.headers.get("authorization")) ?? new URL(request.url).searchParams.get("api_key") ?? undefined;
    return key === options.apiKey;
  };
  const endpointOf = (id: string): EmulatedEndpoint | Response =>
    control.endpoints.get(id) ?? err(404, `endpoint ${id} not found`);
  const queueEndpoint = (id: string): EmulatedEndpoint | Response => {
    const e = endpointOf(id);
    if (!(e instanceof Response) && e.type === "LB")
      return err(400, "not allowed for LB endpoint; call https://{id}.api.runpod.ai/{path}");
    return e;
  };
  const jobOf = (endpointId: string, jobId: string): EmulatedJob | Response => {
    const e = queueEndpoint(endpointId);
    if (e instanceof Response) return e;
    return store.get(endpointId, jobId) ?? err(404, `job ${jobId} not found`);
  };
  const workerAuthorized = (request: Request, endpointId: string) => {
    const key = bearer(request.headers.get("authorization"));
    return key !== undefined && (key === control.endpoints.get(endpointId)?.aiKey || key === options.apiKey);
  };

  /** 401 for a call without the right key: worker routes take the endpoint's worker key, the rest the user's. */
  const authorize = (request: Request, path: string): Response | undefined => {
    const worker = /^\/v2\/([^/]+)\/(job-take|job-take-batch|job-done|job-stream|ping|job-stop)\//.exec(path);
    if (worker ? workerAuthorized(request, worker[1]!) : userAuthorized(request) || path === "/") return undefined;
    // A presigned upload URL carries its own signature instead of the API key (checked by the Flash plane).
    if (path.startsWith(UPLOAD_PREFIX)) return undefined;
    return err(401, "Unauthorized: missing or invalid API key");
  };
  /** 413 for a body over the route's limit (see PAYLOAD_LIMITS); undefined when it fits or the route has none. */
  const oversized = async (request: Request, path: string): Promise<Response | undefined> => {
    if (request.method !== "POST" && request.method !== "PUT" && request.method !== "PATCH") return undefined;
    const route = /^\/v2\/[^/]+\/(run|runsync)$/.exec(path)?.[1] ?? (path.startsWith("/lb/") ? "lb" : undefined);
    if (!route) return undefined;
    const limit = PAYLOAD_LIMITS[route as keyof typeof PAYLOAD_LIMITS];
    const declared = Number(request.headers.get("content-length") ?? Number.NaN);
    const size = Number.isFinite(declared) ? declared : (await request.clone().arrayBuffer()).byteLength;
    if (size <= limit) return undefined;
    const where = route === "lb" ? "a load-balanced request" : `/${route}`;
    return err(413, `payload too large: ${size} bytes exceeds the ${limit / 1_000_000} MB limit of ${where}`);
  };
  /** The worker behind a worker route, attaching unknown ids; a 400 for an id that belongs to another endpoint. */
  const workerOf = (endpointId: string, workerId: string): Response | undefined => {
    if (!control.endpoints.has(endpointId)) return err(404, `endpoint ${endpointId} not found`);
    if (!supervisor.attach(endpointId, workerId)) {
      return err(400, `worker ${workerId} belongs to another endpoint`);
    }
    return undefined;
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

  const app = new Elysia()
    .onRequest(async ({ request }) => {
      const path = new URL(request.url).pathname;
      const denied = authorize(request, path);
      if (denied) return denied;
      const tooLarge = await oversized(request, path);
      if (tooLarge) return tooLarge;
      if (!faults.length) return;
      const i = faults.findIndex(
        (f) =>
          f.times > 0 &&
          (!f.method || f.method === request.method) &&
          (!f.path || (typeof f.path === "string" ? path.includes(f.path) : f.path.test(path))),
      );
      if (i < 0) return;
      const fault = faults[i]!;
      if (fault.after && fault.after-- > 0) return;
      if (--fault.times <= 0) faults.splice(i, 1);
      return err(fault.status, fault.status === 429 ? "rate limited" : `injected failure ${fault.status}`);
    })
    .onError(({ code, error }) => {
      if (code === "VALIDATION") return err(400, `malformed request: ${validationBody(error).message}`);
      if (code === "NOT_FOUND") return err(404, "not found");
      if (code === "PARSE") return err(400, "malformed JSON body");
      elog.error(`emulator error: ${(error as Error)?.stack ?? error}`);
      return err(500, "internal error");
    })
    // ── Flash apps: presigned artifact upload; v2 worker listing and log streams ──────────────────────
    .put(`${UPLOAD_PREFIX}*`, ({ request }) => flashApps.receiveUpload(request), { parse: "none" })
    .use(workerLogRoutes(logBook, supervisor, control))
    // ── GraphQL control plane ────────────────────────────────────────────────────────────────────────
    .post(
      "/graphql",
      async ({ body }) => {
        const reply = await control.execute(body.query, body.variables ?? undefined, body.operationName ?? undefined);
        return new Response(JSON.stringify(reply.body), {
          status: reply.status,
          headers: { "content-type": "application/json" },
        });
      },
      { body: GraphqlBody },
    )
    // ── REST control plane (rest.runpod.io/v1): runpodctl's serverless and template commands ─────────
    .use(restV1(control))
    // ── worker side (runpod-python runpod/serverless/modules/rp_job.py, rp_http.py, rp_ping.py) ──────────────────────────────────────────────────────────────
    // Any worker id is accepted: real workers name themselves in the URL (runpod-python worker_state.py).
    .get("/v2/:ep/job-take/:wid", async ({ params, set }) => {
      const refused = workerOf(params.ep, params.wid);
      if (refused) return refused;
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
        const refused = workerOf(params.ep, params.wid);
        if (refused) return refused;
        supervisor.taking(params.wid);
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
      { query: t.Object({ batch_size: t.Optional(t.Numeric()) }, { additionalProperties: true }) },
    )
    .post(
      "/v2/:ep/job-done/:wid/:job",
      ({ params, body, query }) => {
        const refused = workerOf(params.ep, params.wid);
        if (refused) return refused;
        let parsed: unknown;
        try {
          parsed = JSON.parse(String(body ?? ""));
        } catch {
          return err(400, "job-done body must be JSON");
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
          return err(400, "job-done body must be a JSON object");
        const accepted = store.finish(
          params.ep,
          params.wid,
          params.job,
          parsed as Record<string, unknown>,
          query.isStream === "true",
        );
        if (accepted && (parsed as Record<string, unknown>).status !== "IN_PROGRESS") supervisor.taking(params.wid);
        return accepted ? { ok: true } : err(404, `job ${params.job} is not running on worker ${params.wid}`);
      },
      {
        parse: "text",
        body: t.Optional(t.String()),
        query: t.Object({ isStream: t.Optional(t.String()) }, { additionalProperties: true }),
      },
    )
    // A generator handler's chunk: runpod-python rp_job.py `handle_job` posts each yielded value through rp_http.py
    // `stream_result` to RUNPOD_WEBHOOK_POST_STREAM (`$ID` → the job, then `&isStream=false`) as the JSON text
    // `{"output": chunk}`, with a form content type (parsed as JSON whatever the type, as job-done is). The chunk
    // is readable once, through /stream/{job}, in the order posted.
    .post(
      "/v2/:ep/job-stream/:wid/:job",
      ({ params, body }) => {
        const refused = workerOf(params.ep, params.wid);
        if (refused) return refused;
        let parsed: unknown;
        try {
          parsed = JSON.parse(String(body ?? ""));
        } catch {
          return err(400, "job-stream body must be JSON");
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || !("output" in parsed)) {
          return err(400, 'job-stream body must be a JSON object {"output": <chunk>}');
        }
        const ok = store.pushChunk(params.ep, params.wid, params.job, parsed as Record<string, unknown>);
        return ok ? { ok: true } : err(404, `job ${params.job} is not running on worker ${params.wid}`);
      },
      {
        parse: "text",
        body: t.Optional(t.String()),
        query: t.Object({ isStream: t.Optional(t.String()) }, { additionalProperties: true }),
      },
    )
    .get("/v2/:ep/ping/:wid", ({ params }) => {
      const refused = workerOf(params.ep, params.wid);
      if (refused) return refused;
      supervisor.pinged(params.wid);
      return { ok: true };
    })
    // The stop channel (runpod-python rp_job.py `get_stop_signals`): a long-poll that answers 204, or 200
    // `{"jobsToStop": [jobId, ...]}` once a job this worker holds was cancelled or timed out.
    .get("/v2/:ep/job-stop/:wid", async ({ params, set }) => {
      const refused = workerOf(params.ep, params.wid);
      if (refused) return refused;
      supervisor.listensForStops(params.wid);
      const ids = await store.takeStops(params.wid, takeHoldMs);
      if (!ids.length) {
        set.status = 204;
        return "";
      }
      return { jobsToStop: ids };
    })
    // ── queue REST API (https://docs.runpod.io/serverless/endpoints/send-requests) ───────────────────────────────────────────────────────────
    .post(
      "/v2/:ep/run",
      ({ params, body }) => {
        const e = queueEndpoint(params.ep);
        if (e instanceof Response) return e;
        if (!("input" in body) || body.input === undefined) return err(400, "input is required");
        const job = store.submit(e.id, body as JobRequest, false, e.executionTimeoutMs);
        // Runpod acknowledges a submission as IN_QUEUE even when a waiting worker took it at once.
        return { id: job.id, status: "IN_QUEUE" };
      },
      { body: JobBody },
    )
    .post(
      "/v2/:ep/runsync",
      async ({ params, body, query }) => {
        const e = queueEndpoint(params.ep);
        if (e instanceof Response) return e;
        if (!("input" in body) || body.input === undefined) return err(400, "input is required");
        const job = store.submit(e.id, body as JobRequest, true, e.executionTimeoutMs);
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
        return err(400, `job ${job.id} is ${job.status}; only FAILED or TIMED_OUT jobs can be retried`);
      return { id: job.id, status: "IN_QUEUE" };
    })
    .post("/v2/:ep/purge-queue", ({ params }) => {
      const e = queueEndpoint(params.ep);
      if (e instanceof Response) return e;
      return { removed: store.purge(e.id), status: "completed" };
    })
    .get("/v2/:ep/health", ({ params }) => {
      const e = endpointOf(params.ep);
      if (e instanceof Response) return e;
      return { jobs: store.jobCounts(e.id), workers: supervisor.counts(e.id) };
    })
    // ── load-balanced endpoints: https://{id}.api.runpod.ai/{path} → a worker's PORT ─────────────────
    .all(
      "/lb/:ep/*",
      async ({ request, params }) => {
        const e = endpointOf(params.ep);
        if (e instanceof Response) return e;
        if (e.type !== "LB") return err(400, "not allowed for QB API");
        const worker = await supervisor.acquireLb(e.id, request.signal);
        if (!worker) return err(503, LB_NO_WORKERS_TEXT);
        let handedOff = false;
        try {
          const url = new URL(request.url);
          const headers = new Headers(request.headers);
          headers.delete("authorization");
          headers.delete("host");
          const hasBody = request.method !== "GET" && request.method !== "HEAD";
          const res = await fetch(`http://127.0.0.1:${worker.port}/${params["*"]}${url.search}`, {
            method: request.method,
            headers,
            body: hasBody ? await request.arrayBuffer() : undefined,
            signal: request.signal,
          });
          if (streamedBody(res)) {
            // A streamed reply (a generator's NDJSON, an SSE route) goes through as the worker writes it, as
            // Runpod's load balancer passes it ("ideal for real-time applications and streaming":
            // https://docs.runpod.io/serverless/load-balancing/overview); the worker is busy until it ends.
            handedOff = true;
            return passThrough(res, () => supervisor.releaseLb(worker));
          }
          const payload = await res.arrayBuffer();
          if (payload.byteLength > PAYLOAD_LIMITS.lb) {
            return err(
              502,
              `worker response of ${payload.byteLength} bytes exceeds the 30 MB limit of load-balanced endpoints`,
            );
          }
          const out = new Response(payload, { status: res.status, headers: res.headers });
          out.headers.delete("content-encoding");
          out.headers.delete("content-length");
          return out;
        } catch (error) {
          return err(502, `worker ${worker.id} did not answer: ${(error as Error).message}`);
        } finally {
          if (!handedOff) supervisor.releaseLb(worker);
        }
      },
      { parse: "none" },
    )
    // ── emulator-only: what is running, and the env a hand-started worker needs ─────────────────────
    .get("/emulator/endpoints/:ep/worker-env", ({ params }) => {
      const e = endpointOf(params.ep);
      if (e instanceof Response) return e;
      return { endpointId: e.id, launch: supervisor.launch(e).kind, env: supervisor.attachEnv(e) };
    })
    .get("/", () => ({
      emulator: "runpod",
      endpoints: [...control.endpoints.values()].map((e) => ({
        id: e.id,
        name: e.name,
        type: e.type,
        image: control.templateOf(e)?.imageName ?? null,
        launch: supervisor.launch(e).kind,
        workers: supervisor.counts(e.id),
      })),
    }));

  const server = Bun.serve({
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    idleTimeout: 0,
    fetch: (req) => app.handle(req),
  });
  const display = server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname;
  baseUrl = `http://${display}:${server.port}`;
  let stopped = false;
  return {
    url: baseUrl,
    apiBaseUrl: baseUrl,
    endpointBaseUrl: `${baseUrl}/v2`,
    lbBaseUrl: `${baseUrl}/lb/{id}`,
    restBaseUrl: `${baseUrl}/v1`,
    store,
    control,
    supervisor,
    flashApps,
    logs: logBook,
    fail(fault) {
      faults.push({ ...fault });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      store.close();
      flashApps.close();
      await supervisor.shutdown();
      await server.stop(true);
    },
  };
}

function takePayload(job: EmulatedJob): Record<string, unknown> {
  const out: Record<string, unknown> = { id: job.id, input: job.input };
  if (job.webhook) out.webhook = job.webhook;
  if (job.s3Config) out.s3Config = job.s3Config;
  if (job.policy && Object.keys(job.policy).length) out.policy = job.policy;
  return out;
}

/** A worker reply that streams: NDJSON or Server-Sent Events. */
function streamedBody(res: Response): boolean {
  const type = res.headers.get("content-type") ?? "";
  return res.body !== null && (type.includes("application/x-ndjson") || type.includes("text/event-stream"));
}

/** The worker's streamed reply, passed on as it comes; `done` runs once when it ends or the client leaves. */
function passThrough(res: Response, done: () => void): Response {
  const reader = res.body!.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: end } = await reader.read();
        if (end) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    async cancel() {
      finish();
      await reader.cancel().catch(() => undefined);
    },
  });
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(body, { status: res.status, headers });
}

async function waitChunk(job: EmulatedJob, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!job.chunks.length && Date.now() < until) await Bun.sleep(10);
}
