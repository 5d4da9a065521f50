/**
 * What every plane of the emulator works on: the job store, the control plane, the Flash apps, the worker logs and
 * the workers, wired to each other once here. A plane is `(ctx) => new Elysia()`; `emulatorApp` lists them.
 */
import type { EndpointHealth } from "../../runpod/api";
import { ControlPlane, type ControlPlaneOptions, type EmulatedEndpoint } from "../control-plane";
import { APPS_GRAPHQL, FlashApps } from "../flash-apps";
import { JobStore, type StoreOptions } from "../job-store";
import type { EmulatedWorker } from "../supervisor";
import { WorkerLogBook } from "../worker-logs";
import type { Launch } from "../worker-env";

/** An error the emulator injects on matching requests (tests of retries on 429/5xx). */
export interface Fault {
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

/** A worker as the planes read it (the worker listing, the LB proxy). */
export type WorkerView = Pick<EmulatedWorker, "id" | "state" | "startedAt" | "inflight" | "port">;

/** What the planes and the store's hooks need from the workers: `WorkerSupervisor`, or an in-memory fake in unit tests. */
export interface Supervisor {
  /** A worker route was called: truthy when the id may act for this endpoint (unknown ids attach). */
  attach(endpointId: string, workerId: string): object | undefined;
  /** A worker asked for a job. */
  taking(workerId: string): void;
  /** A worker got a job. */
  running(workerId: string): void;
  /** A worker's heartbeat. */
  pinged(workerId: string): void;
  /** A worker polls its stop channel. */
  listensForStops(workerId: string): void;
  /** Stop a job on its worker (cancel or execution timeout). */
  stopJob(workerId: string | undefined, jobId: string, reason: string, timedOut?: boolean): void;
  /** Bring an endpoint's worker count in line with its config and demand. */
  rescale(endpointId: string): void;
  /** The six worker counters of `/health`. */
  counts(endpointId: string): EndpointHealth["workers"];
  /** The workers of an endpoint that are not on their way out. */
  alive(endpointId: string): WorkerView[];
  /** LB: a ready worker for one request; undefined when none got ready in time. */
  acquireLb(endpointId: string, signal?: AbortSignal): Promise<WorkerView | undefined>;
  /** LB: a proxied request finished. */
  releaseLb(worker: WorkerView): void;
  /** How an endpoint's workers start. */
  launch(endpoint: EmulatedEndpoint): Launch;
  /** The variables a worker started by hand needs to attach to an endpoint. */
  attachEnv(endpoint: EmulatedEndpoint): Record<string, string>;
}

/** The state every plane shares. */
export interface EmulatorContext<S extends Supervisor = Supervisor> {
  readonly store: JobStore;
  readonly control: ControlPlane;
  readonly supervisor: S;
  readonly flashApps: FlashApps;
  readonly logs: WorkerLogBook;
  /** The key every client call must carry (Bearer or bare; `?api_key=` on GraphQL). */
  readonly apiKey: string;
  /** Keys that may call endpoints and nothing else (ContextOptions.callKeys). */
  readonly callKeys: readonly string[];
  /** The emulator's own URL (known once it listens). */
  readonly baseUrl: () => string;
  /** How long `job-take` and `job-stop` hold a worker's request open when nothing waits, ms. */
  readonly takeHoldMs: number;
  /** The least `?wait=` of runsync and status-sync, ms. */
  readonly minSyncWaitMs: number;
  /** Injected errors still to answer (`Emulator.fail`). */
  readonly faults: Fault[];
}

/** What `emulatorContext` is built from. */
export interface ContextOptions extends StoreOptions {
  /** API key every client call must carry (Bearer or bare; `?api_key=` on GraphQL). */
  apiKey: string;
  /**
   * More keys, good only for calling endpoints (run, runsync, status, stream, cancel, health, the load-balanced
   * URLs), not for managing anything: what a Runpod API key restricted to serverless calls can do (runpod/docs
   * `get-started/api-keys.mdx`, "Restricted"). A deployed mothership's FLASH_MOTHERSHIP_API_KEY is one.
   */
  callKeys?: string[];
  /** How long `job-take` holds a worker's request open when no job waits, ms (default 20 s; Runpod: up to ~90 s). */
  takeHoldMs?: number;
  /** The least `?wait=` of runsync and status-sync, ms (Runpod: 1000; tests shorten it). */
  minSyncWaitMs?: number;
  /** Control-plane rules (the 0/0 rule of deleteEndpoint, template deletion delay, LB port env). */
  control?: ControlPlaneOptions;
}

/** The parts a supervisor is made from (the real one reads env and logs through them). */
export interface SupervisorParts {
  store: JobStore;
  control: ControlPlane;
  flashApps: FlashApps;
  logs: WorkerLogBook;
}

/** Make the store, control plane, Flash apps and log book, add the supervisor `makeSupervisor` gives, and wire them. */
export function emulatorContext<S extends Supervisor>(
  options: ContextOptions,
  baseUrl: () => string,
  makeSupervisor: (parts: SupervisorParts) => S,
): EmulatorContext<S> {
  const store = new JobStore(options);
  const control = new ControlPlane(options.control);
  const flashApps = new FlashApps(control, baseUrl);
  control.extend(
    APPS_GRAPHQL,
    () => flashApps.resolvers(),
    () => ({ flashApps: () => flashApps.listApps() }),
  );
  const logs = new WorkerLogBook();
  const supervisor = makeSupervisor({ store, control, flashApps, logs });
  store.onChange = (endpointId) => supervisor.rescale(endpointId);
  store.onStop = (job, reason) =>
    supervisor.stopJob(job.workerId, job.id, `job ${job.id} ${reason}`, reason === "TIMED_OUT");
  control.onEndpointChange = (endpoint, change) => {
    if (change === "deleted") store.dropEndpoint(endpoint.id);
    supervisor.rescale(endpoint.id);
  };
  return {
    store,
    control,
    supervisor,
    flashApps,
    logs,
    apiKey: options.apiKey,
    callKeys: options.callKeys ?? [],
    baseUrl,
    takeHoldMs: options.takeHoldMs ?? 20_000,
    minSyncWaitMs: options.minSyncWaitMs ?? 1000,
    faults: [],
  };
}

/** A JSON error reply `{error}`, the emulator's shape for every refusal. */
export const jsonError = (status: number, message: string): Response =>
  new Response(JSON.stringify({ error: message }), { status, headers: { "content-type": "application/json" } });

/** The endpoint, or a 404. */
export function endpointOf(ctx: EmulatorContext, id: string): EmulatedEndpoint | Response {
  return ctx.control.endpoints.get(id) ?? jsonError(404, `endpoint ${id} not found`);
}

/** The `Bearer` token of an authorization header (or the bare header). */
export function bearer(header: string | null): string | undefined {
  if (!header) return undefined;
  return header.startsWith("Bearer ") ? header.slice(7).trim() : header.trim();
}
