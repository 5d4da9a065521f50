import { tagged } from "../runpod/logs";
import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { log } from "../base/log";
import type { EndpointHealth } from "../runpod/api";
import { runpodId, type ControlPlane, type EmulatedEndpoint } from "./control-plane";
import type { JobStore } from "./job-store";

const wlog = tagged("emulator");

/** How to start our worker program: bun + the entry file from source, or the flash binary's hidden subcommand. */
export function workerCommand(): string[] {
  const entry = resolve(import.meta.dir, "../../worker/main.ts");
  const compiled = import.meta.dir.startsWith("/$bunfs") || import.meta.dir.includes("~BUN");
  if (!compiled && existsSync(entry)) return [process.execPath, entry];
  return [process.execPath, "__runpod-worker"];
}

/** One emulated worker: a real subprocess running the worker program with the env Runpod gives a worker. */
export interface EmulatedWorker {
  id: string;
  endpointId: string;
  proc: Subprocess;
  state: "initializing" | "idle" | "running" | "stopping";
  startedAt: number;
  lastActive: number;
  /** LB workers: the port their HTTP server listens on, and requests being proxied to them. */
  port?: number;
  inflight: number;
  /** The last lines the worker printed (for the error a crash produces). */
  tail: string[];
}

/** What the supervisor needs from the emulator around it. */
export interface SupervisorOptions {
  /** Base URL of the emulator (`http://127.0.0.1:PORT`), for the worker callback URLs. */
  baseUrl: () => string;
  /** Command that starts a worker (default: `workerCommand()`). */
  command?: string[];
  /** Extra environment for every worker (tests point the dependency cache at a temp dir with it). */
  env?: Record<string, string>;
  /** Heartbeat interval handed to workers, ms. */
  pingIntervalMs?: number;
  /** How long an LB request waits for a ready worker before 503 (Runpod: 2 min). */
  lbWaitMs?: number;
  /** More environment for one endpoint's workers (the Flash plane mounts a deployed artifact with it). */
  envFor?: (endpoint: EmulatedEndpoint) => Record<string, string>;
  /** Each line a worker prints ("container") and each platform event of its life ("system"), for the log routes. */
  onLog?: (worker: EmulatedWorker, source: "container" | "system", line: string) => void;
}

/**
 * Starts, scales and stops worker subprocesses per endpoint with the endpoint's semantics: `workersMin` kept
 * running, up to `workersMax` started while jobs wait, idle workers stopped after `idleTimeout` seconds.
 */
export class WorkerSupervisor {
  readonly workers = new Map<string, EmulatedWorker>();
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(
    private readonly store: JobStore,
    private readonly control: ControlPlane,
    private readonly opts: SupervisorOptions,
  ) {
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref?.();
  }

  /** Workers of one endpoint that are not on their way out. */
  alive(endpointId: string): EmulatedWorker[] {
    return [...this.workers.values()].filter((w) => w.endpointId === endpointId && w.state !== "stopping");
  }

  /** Bring an endpoint's worker count in line with its config and demand. */
  rescale(endpointId: string): void {
    if (this.closed) return;
    const endpoint = this.control.endpoints.get(endpointId);
    if (!endpoint) return this.stopAll(endpointId);
    const alive = this.alive(endpointId);
    const demand =
      endpoint.type === "LB"
        ? alive.reduce((n, w) => n + w.inflight, 0) + this.lbWaiting(endpointId)
        : this.store.demand(endpointId);
    const target = Math.min(endpoint.workersMax, Math.max(endpoint.workersMin, demand));
    for (let i = alive.length; i < target; i++) this.spawn(endpoint);
    // Too many (config lowered): stop idle ones first.
    let extra = alive.length - Math.max(endpoint.workersMin, Math.min(endpoint.workersMax, alive.length));
    for (const w of alive) {
      if (extra <= 0) break;
      if (w.state === "idle" || w.state === "initializing") {
        this.stop(w, "scaled down");
        extra--;
      }
    }
  }

  /** A worker asked for a job: it is alive and idle. */
  taking(workerId: string): EmulatedWorker | undefined {
    const w = this.workers.get(workerId);
    // Idle time counts from the end of the last job, not from the latest long-poll (workers re-poll constantly).
    if (w && w.state !== "stopping" && w.state !== "idle") {
      w.state = "idle";
      w.lastActive = Date.now();
    }
    return w;
  }

  /** A worker got a job. */
  running(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w && w.state !== "stopping") {
      w.state = "running";
      w.lastActive = Date.now();
    }
  }

  /** A worker's heartbeat. */
  pinged(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) w.lastActive = Math.max(w.lastActive, w.state === "running" ? Date.now() : w.lastActive);
  }

  /** Kill the worker running a job (cancel or timeout): our jobs cannot be interrupted in-process. */
  stopJob(workerId: string | undefined, reason: string): void {
    const w = workerId ? this.workers.get(workerId) : undefined;
    if (w) this.stop(w, reason, "SIGKILL");
  }

  /** The six worker counters of `/health`. */
  counts(endpointId: string): EndpointHealth["workers"] {
    const c = { idle: 0, initializing: 0, ready: 0, running: 0, throttled: 0, unhealthy: 0 };
    for (const w of this.alive(endpointId)) {
      if (w.state === "initializing") c.initializing++;
      else if (w.state === "running" || w.inflight > 0) c.running++;
      else c.idle++;
    }
    return c;
  }

  /** LB: a ready worker's port for one request (starting one if needed); undefined when none got ready in time. */
  async acquireLb(endpointId: string, signal?: AbortSignal): Promise<EmulatedWorker | undefined> {
    const deadline = Date.now() + (this.opts.lbWaitMs ?? 120_000);
    this.lbWaiters.set(endpointId, (this.lbWaiters.get(endpointId) ?? 0) + 1);
    try {
      this.rescale(endpointId);
      while (Date.now() < deadline && !signal?.aborted && !this.closed) {
        const ready = this.alive(endpointId).filter((w) => w.state === "idle" || w.state === "running");
        const endpoint = this.control.endpoints.get(endpointId);
        const best = ready.sort((a, b) => a.inflight - b.inflight)[0];
        // Prefer starting another worker over queueing behind a busy one, while the config allows it.
        if (best && (best.inflight === 0 || !endpoint || this.alive(endpointId).length >= endpoint.workersMax)) {
          best.inflight++;
          best.state = "running";
          best.lastActive = Date.now();
          return best;
        }
        this.rescale(endpointId);
        await Bun.sleep(20);
      }
      return undefined;
    } finally {
      this.lbWaiters.set(endpointId, (this.lbWaiters.get(endpointId) ?? 1) - 1);
    }
  }

  /** LB: a proxied request finished. */
  releaseLb(w: EmulatedWorker): void {
    w.inflight = Math.max(0, w.inflight - 1);
    w.lastActive = Date.now();
    if (w.inflight === 0 && w.state === "running") w.state = "idle";
  }

  /** Stop every worker and wait for them to exit. */
  async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const all = [...this.workers.values()];
    for (const w of all) this.stop(w, "emulator stopping");
    await Promise.all(all.map((w) => Promise.race([w.proc.exited, Bun.sleep(3000)])));
    for (const w of all) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
  }

  private readonly lbWaiters = new Map<string, number>();
  private lbWaiting(endpointId: string): number {
    return this.lbWaiters.get(endpointId) ?? 0;
  }

  private stopAll(endpointId: string): void {
    for (const w of this.workers.values()) if (w.endpointId === endpointId) this.stop(w, "endpoint deleted");
  }

  private spawn(endpoint: EmulatedEndpoint): EmulatedWorker {
    const id = runpodId();
    const base = this.opts.baseUrl();
    const gpu = endpoint.instanceIds?.length
      ? encodeURIComponent(endpoint.instanceIds[0]!)
      : encodeURIComponent(endpoint.gpuIds.split(",")[0] || "CPU");
    const prefix = `${base}/v2/${endpoint.id}`;
    const port = endpoint.type === "LB" ? freePort() : undefined;
    const template = this.control.templateOf(endpoint);
    const env: Record<string, string> = {
      ...inheritedEnv(),
      ...Object.fromEntries((template?.env ?? []).map((v) => [v.key, v.value])),
      ...Object.fromEntries(endpoint.env.map((v) => [v.key, v.value])),
      // Emulated workers run on this machine, not in a container: never apt-get install here unless asked to.
      FLASH_WORKER_APT: process.env.FLASH_EMULATOR_APT === "install" ? "install" : "check",
      ...this.opts.env,
      ...this.opts.envFor?.(endpoint),
      RUNPOD_POD_ID: id,
      RUNPOD_ENDPOINT_ID: endpoint.id,
      RUNPOD_POD_HOSTNAME: `${id}-emulator`,
      RUNPOD_AI_API_KEY: endpoint.aiKey,
      RUNPOD_GPU_COUNT: String(endpoint.gpuCount),
      RUNPOD_PING_INTERVAL: String(this.opts.pingIntervalMs ?? 10_000),
      RUNPOD_WEBHOOK_GET_JOB: `${prefix}/job-take/$ID?gpu=${gpu}`,
      RUNPOD_WEBHOOK_POST_OUTPUT: `${prefix}/job-done/$RUNPOD_POD_ID/$ID?gpu=${gpu}`,
      RUNPOD_WEBHOOK_POST_STREAM: `${prefix}/job-stream/$RUNPOD_POD_ID/$ID?gpu=${gpu}`,
      RUNPOD_WEBHOOK_PING: `${prefix}/ping/$RUNPOD_POD_ID?gpu=${gpu}`,
      RUNPOD_WEBHOOK_JOB_STOP: `${prefix}/job-stop/$RUNPOD_POD_ID?gpu=${gpu}`,
    };
    if (port !== undefined) {
      env.PORT = String(port);
      env.PORT_HEALTH = String(port);
    }
    const proc = Bun.spawn(this.opts.command ?? workerCommand(), {
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const now = Date.now();
    const worker: EmulatedWorker = {
      id,
      endpointId: endpoint.id,
      proc,
      state: "initializing",
      startedAt: now,
      lastActive: now,
      port,
      inflight: 0,
      tail: [],
    };
    this.workers.set(id, worker);
    wlog.debug(`worker ${id} started for endpoint ${endpoint.id} (${endpoint.name}), pid ${proc.pid}`);
    this.opts.onLog?.(worker, "system", `create container ${endpoint.name}`);
    this.opts.onLog?.(worker, "system", `start container (pid ${proc.pid})`);
    void pipeLines(proc.stdout as ReadableStream<Uint8Array>, worker, this.opts.onLog);
    void pipeLines(proc.stderr as ReadableStream<Uint8Array>, worker, this.opts.onLog);
    void proc.exited.then((code) => this.exited(worker, code));
    if (port !== undefined) void this.probeLb(worker);
    return worker;
  }

  private async probeLb(w: EmulatedWorker): Promise<void> {
    while (w.state === "initializing" && w.proc.exitCode === null && !this.closed) {
      try {
        const res = await fetch(`http://127.0.0.1:${w.port}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) {
          w.state = "idle";
          w.lastActive = Date.now();
          return;
        }
      } catch {
        // not listening yet: keep probing until it does or exits
      }
      await Bun.sleep(25);
    }
  }

  private stop(w: EmulatedWorker, reason: string, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): void {
    if (w.proc.exitCode !== null) return;
    w.state = "stopping";
    wlog.debug(`stopping worker ${w.id} (${reason})`);
    this.store.dropWaiter(w.endpointId, w.id);
    w.proc.kill(signal);
    if (signal === "SIGTERM") {
      const force = setTimeout(() => w.proc.exitCode === null && w.proc.kill("SIGKILL"), 3000);
      force.unref?.();
    }
  }

  private exited(w: EmulatedWorker, code: number | null): void {
    this.opts.onLog?.(w, "system", `container exited with code ${code ?? w.proc.signalCode}`);
    this.workers.delete(w.id);
    this.store.dropWaiter(w.endpointId, w.id);
    const expected = w.state === "stopping";
    const how = `exited with code ${code ?? w.proc.signalCode}`;
    if (!expected) {
      const tail = w.tail.slice(-5).join("\n");
      wlog.warn(`worker ${w.id} of endpoint ${w.endpointId} ${how}${tail ? `:\n${tail}` : ""}`);
    }
    this.store.workerLost(w.id, how);
    this.rescale(w.endpointId);
  }

  private tick(): void {
    const now = Date.now();
    for (const endpoint of this.control.endpoints.values()) {
      const alive = this.alive(endpoint.id);
      let spare =
        alive.length - Math.max(endpoint.workersMin, endpoint.type === "LB" ? 0 : this.store.demand(endpoint.id));
      for (const w of alive) {
        if (spare <= 0) break;
        if (w.state === "idle" && w.inflight === 0 && now - w.lastActive > endpoint.idleTimeout * 1000) {
          this.stop(w, `idle for ${endpoint.idleTimeout} s`);
          spare--;
        }
      }
      this.rescale(endpoint.id);
    }
  }
}

/** The parent's environment minus anything secret or Runpod-specific (a worker gets only what the platform gives). */
function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("RUNPOD_") || /KEY|TOKEN|SECRET|PASSWORD/i.test(k)) continue;
    out[k] = v;
  }
  return out;
}

async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  w: EmulatedWorker,
  onLog?: SupervisorOptions["onLog"],
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    const reader = stream.getReader();
    for (;;) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        w.tail.push(line);
        onLog?.(w, "container", line);
        if (w.tail.length > 20) w.tail.shift();
        wlog.debug(`[worker ${w.id}] ${line}`);
      }
    }
  } catch {
    // the pipe closes when the worker is killed
  }
}

/** A port that is free right now (the worker binds it a moment later). */
function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}
