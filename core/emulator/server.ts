/**
 * The emulator's entry: the planes it serves, in order, and `startEmulator`, which serves them on a port with real
 * worker subprocesses. Adding an API group is one file under `planes/` and one `.use()` in `emulatorApp`.
 */
import { Elysia } from "elysia";
import { httpUrl } from "../base/net";
import type { ControlPlane } from "./control-plane";
import type { FlashApps } from "./flash-apps";
import type { JobStore } from "./job-store";
import { admin } from "./planes/admin";
import { type ContextOptions, type EmulatorContext, emulatorContext, type Fault } from "./planes/context";
import { flashApps } from "./planes/flash-apps";
import { flashAuth } from "./planes/flash-auth";
import { graphqlPlane } from "./planes/graphql";
import { guards } from "./planes/guards";
import { lbProxy } from "./planes/lb-proxy";
import { queueApi } from "./planes/queue-api";
import { type RestV2Options, restV2Plane } from "./planes/rest-v2";
import { retiredGraphql } from "./planes/retire-graphql";
import { workerApi } from "./planes/worker-api";
import { workerLogs } from "./planes/worker-logs";
import { type SupervisorOptions, WorkerSupervisor } from "./supervisor";
import type { WorkerLogBook } from "./worker-logs";

/** Options of `startEmulator`: the key, the platform's timings and rules (`ContextOptions`), the port, the workers. */
export interface EmulatorOptions extends ContextOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Worker subprocess options (command, image commands, env, heartbeat interval, LB wait, cold start). */
  workers?: Omit<SupervisorOptions, "baseUrl">;
  /**
   * Serve GraphQL only for what REST v2 has no surface for (the Flash app plane): the day Runpod retires GraphQL
   * (runpod/docs release notes, "retired in early 2027"), every other operation is refused.
   */
  retireGraphql?: boolean;
  /** REST v2 requests per minute per key before 429 (default 600). */
  restPerMinute?: number;
  /** Sees every REST v2 exchange (the contract test checks them against Runpod's document). */
  restObserver?: RestV2Options["observe"];
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
  /** The REST v2 control plane (`${url}/v2`: `/serverless`, `/templates`, `/network-volumes`, `/catalog`). */
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

/** A fresh emulator-only API key (the user's real key is never sent to a local emulator). */
export function emulatorKey(): string {
  return `emu_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The emulator's HTTP app: the guards, then one plane per API group. */
export function emulatorApp(
  ctx: EmulatorContext,
  options: Pick<EmulatorOptions, "retireGraphql" | "restPerMinute" | "restObserver"> = {},
) {
  return new Elysia()
    .use(flashAuth(ctx))
    .use(guards(ctx))
    .use(options.retireGraphql ? retiredGraphql() : new Elysia())
    .use(workerApi(ctx))
    .use(queueApi(ctx))
    .use(lbProxy(ctx))
    .use(graphqlPlane(ctx))
    .use(restV2Plane(ctx, { perMinute: options.restPerMinute, observe: options.restObserver }))
    .use(flashApps(ctx))
    .use(workerLogs(ctx))
    .use(admin(ctx));
}

/**
 * Start a local Runpod: REST job routes, GraphQL control plane, worker routes and an LB proxy, with real worker
 * subprocesses per endpoint. Every client call needs `apiKey` (401 otherwise); the key is never logged or echoed.
 */
export function startEmulator(options: EmulatorOptions): Emulator {
  if (!options.apiKey) throw new Error("startEmulator needs an apiKey");
  let baseUrl = "";
  const ctx = emulatorContext(
    options,
    () => baseUrl,
    (parts) =>
      new WorkerSupervisor(parts.store, parts.control, {
        ...options.workers,
        baseUrl: () => baseUrl,
        mountsFor: (endpoint) => parts.flashApps.mounts(endpoint),
        onLog: (worker, source, line) => parts.logs.record(worker, source, line),
      }),
  );
  const app = emulatorApp(ctx, options);
  const server = Bun.serve({
    hostname: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    idleTimeout: 0,
    fetch: (req) => app.handle(req),
  });
  baseUrl = httpUrl(server.hostname ?? options.host ?? "127.0.0.1", server.port!);
  let stopped = false;
  const { store, control, supervisor, logs } = ctx;
  return {
    url: baseUrl,
    apiBaseUrl: baseUrl,
    endpointBaseUrl: `${baseUrl}/v2`,
    lbBaseUrl: `${baseUrl}/lb/{id}`,
    restBaseUrl: `${baseUrl}/v2`,
    store,
    control,
    supervisor,
    flashApps: ctx.flashApps,
    logs,
    fail(fault) {
      ctx.faults.push({ ...fault });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      store.close();
      ctx.flashApps.close();
      await supervisor.shutdown();
      await server.stop(true);
    },
  };
}
