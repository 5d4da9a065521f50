import { forgetGroup, removeWhenGone, watchGroup } from "../base/process-group";
import type { Subprocess } from "bun";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { logger } from "../base/log";
import { networkVolumeFolder } from "../base/volumes";
import type { EndpointHealth } from "../runpod/api";
import { LB_NO_WORKER_WAIT_MS } from "../runpod/platform";
import { type ControlPlane, type EmulatedEndpoint, runpodId } from "./control-plane";
import { containerEnv, makeRoot, toolsDir } from "./images";
import type { JobStore } from "./job-store";
import {
  exportLines,
  hostEnv,
  type Launch,
  type LaunchOptions,
  launchOf,
  platformEnv,
  templateEnv,
} from "./worker-env";

const wlog = logger("emulator");

/** One emulated worker: a real subprocess started with the env Runpod gives a worker. */
export interface EmulatedWorker {
  id: string;
  endpointId: string;
  /** The endpoint version it was started for: a newer version (template or GPU change) replaces it. */
  version: number;
  proc: Subprocess;
  state: "initializing" | "idle" | "running" | "stopping";
  startedAt: number;
  lastActive: number;
  /** LB workers: the host ports standing for the template's PORT and PORT_HEALTH, and requests being proxied. */
  port?: number;
  healthPort?: number;
  inflight: number;
  /** The last lines the worker printed (for the error a crash produces). */
  tail: string[];
  /** It polled `job-stop`: cancel and timeout reach it through the stop channel instead of a kill. */
  stopChannel: boolean;
  /** It got a stop signal: its exit is expected. */
  stopRequested: boolean;
  /** It took a job-take or passed a health check once (a worker that dies before that counts as unhealthy). */
  everReady: boolean;
  /** The container's "/" (FLASH_CONTAINER_ROOT): its /tmp, /app, /root/.runpod, /usr/local/bin live under it. */
  root?: string;
  /** When it last sent a heartbeat (RUNPOD_WEBHOOK_PING), ms since the epoch; 0: never. */
  lastPing: number;
}

/** A worker the emulator did not start (any program speaking the worker protocol with the endpoint's key). */
export interface AttachedWorker {
  id: string;
  endpointId: string;
  state: "idle" | "running";
  lastSeen: number;
  stopChannel: boolean;
}

/** What the supervisor needs from the emulator around it. */
export interface SupervisorOptions extends LaunchOptions {
  /** Base URL of the emulator (`http://127.0.0.1:PORT`), for the worker callback URLs. */
  baseUrl: () => string;
  /** Extra environment for every spawned worker (tests point the dependency cache at a temp dir with it). */
  env?: Record<string, string>;
  /** Heartbeat interval handed to workers, ms. */
  pingIntervalMs?: number;
  /** How long an LB request waits for a ready worker before "no workers available" (Runpod: 2 min). */
  lbWaitMs?: number;
  /** Cold start: how long a worker takes from scale-up to its process starting (image pull, boot), ms. Default 0. */
  coldStartMs?: number;
  /** Give LB workers the RUNPOD_WEBHOOK_* job URLs too (not documented; `flash doctor runpod` checks it). Default false. */
  lbWebhookEnv?: boolean;
  /** An attached worker that made no call for this long is gone (its job goes back to the queue), ms. */
  attachedTimeoutMs?: number;
  /** Print how to attach a worker for endpoints the emulator starts none for (`flash emulator`); else debug. */
  announceAttach?: boolean;
  /** How long a worker told to stop a timed-out job may stay busy with it before it is killed, ms. */
  stopGraceMs?: number;
  /** Pause before starting another worker for an endpoint whose worker died before getting ready, ms. */
  crashBackoffMs?: number;
  /** How often the scaler checks idle workers, versions and attached workers, ms (default 250). */
  tickMs?: number;
  /** How long one second of an endpoint's `idleTimeout` lasts here, ms (default 1000; tests shorten it). */
  idleSecondMs?: number;
  /** The folder holding one folder per network volume name (default `.flash/volumes` of the current directory). */
  volumesDir?: string;
  /** Files Runpod puts into one endpoint's containers: container path → host file (the Flash plane's artifact). */
  mountsFor?: (endpoint: EmulatedEndpoint) => Record<string, string>;
  /** The URL of Bun's release downloads the emulator serves (FLASH_BUN_RELEASES_URL in every container). */
  bunReleasesUrl?: () => string;
  /** Each line a worker prints ("container") and each platform event of its life ("system"), for the log routes. */
  onLog?: (worker: EmulatedWorker, source: "container" | "system", line: string) => void;
}

/** How long a crash counts as an `unhealthy` worker in `/health`. */
const UNHEALTHY_WINDOW_MS = 60_000;

/**
 * Starts, scales and stops worker subprocesses per endpoint with the endpoint's semantics: `workersMin` kept
 * running, up to `workersMax` started while jobs wait, idle workers stopped after `idleTimeout` seconds, workers
 * of an old endpoint version replaced. Endpoints whose image is not flash's worker (and has no mapped command)
 * get no process: workers the user starts attach through the worker routes.
 */
export class WorkerSupervisor {
  readonly workers = new Map<string, EmulatedWorker>();
  readonly attached = new Map<string, AttachedWorker>();
  /** Workers in their cold start: counted as initializing, their process not started yet. */
  private readonly starting = new Map<string, { endpointId: string; timer: ReturnType<typeof setTimeout> }>();
  private readonly crashes = new Map<string, number[]>();
  private readonly holdUntil = new Map<string, number>();
  private readonly throttled = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly lbWaiters = new Map<string, number>();
  private readonly timer: ReturnType<typeof setInterval>;
  private dir?: string;
  private program?: Record<string, string>;
  private programLoading?: Promise<void>;
  private closed = false;

  constructor(
    private readonly store: JobStore,
    private readonly control: ControlPlane,
    private readonly opts: SupervisorOptions,
  ) {
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 250);
    this.timer.unref?.();
  }

  /** Spawned workers of one endpoint that are not on their way out. */
  alive(endpointId: string): EmulatedWorker[] {
    return [...this.workers.values()].filter((w) => w.endpointId === endpointId && w.state !== "stopping");
  }

  /** How an endpoint's workers start (flash's worker, a mapped command, or none). */
  launch(endpoint: EmulatedEndpoint): Launch {
    return launchOf(this.control.templateOf(endpoint), this.opts);
  }

  /** The variables a worker started by hand needs to attach to an endpoint (RUNPOD_POD_ID left to the worker). */
  attachEnv(endpoint: EmulatedEndpoint): Record<string, string> {
    return platformEnv(endpoint, undefined, {
      baseUrl: this.opts.baseUrl(),
      pingIntervalMs: this.opts.pingIntervalMs,
      webhooks: true,
    });
  }

  /** Simulate Runpod having no capacity for an endpoint: `n` workers counted as throttled, none started. */
  throttle(endpointId: string, n: number): void {
    if (n > 0) this.throttled.set(endpointId, n);
    else this.throttled.delete(endpointId);
    this.rescale(endpointId);
  }

  /** Bring an endpoint's worker count in line with its config and demand. */
  rescale(endpointId: string): void {
    if (this.closed) return;
    const endpoint = this.control.endpoints.get(endpointId);
    if (!endpoint) return this.stopAll(endpointId);
    const launch = this.launch(endpoint);
    if (launch.kind === "external") return this.announce(endpoint);
    const alive = this.alive(endpointId);
    const pending = this.startingCount(endpointId);
    const demand =
      endpoint.type === "LB"
        ? Math.ceil(
            (alive.reduce((n, w) => n + w.inflight, 0) + this.lbWaiting(endpointId)) / requestsPerWorker(endpoint),
          )
        : Math.ceil(this.store.demand(endpointId) / this.jobsPerWorker(endpoint));
    const target = Math.min(endpoint.workersMax, Math.max(endpoint.workersMin, demand));
    const blocked = this.throttled.has(endpointId) || (this.holdUntil.get(endpointId) ?? 0) > Date.now();
    if (!blocked) for (let i = alive.length + pending; i < target; i++) this.start(endpoint, launch);
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

  /**
   * A worker called a worker route (job-take, ping, job-stop): a spawned one is known; any other id becomes an
   * attached worker of that endpoint, since real workers identify themselves only by the id in the URL
   * (runpod-python worker_state.py: `RUNPOD_POD_ID`, else a random uuid). Undefined when the id is a worker of
   * another endpoint.
   */
  attach(endpointId: string, workerId: string): EmulatedWorker | AttachedWorker | undefined {
    const spawned = this.workers.get(workerId);
    if (spawned) return spawned.endpointId === endpointId ? spawned : undefined;
    let a = this.attached.get(workerId);
    if (a && a.endpointId !== endpointId) return undefined;
    if (!a) {
      a = { id: workerId, endpointId, state: "idle", lastSeen: Date.now(), stopChannel: false };
      this.attached.set(workerId, a);
      wlog.info(`worker ${workerId} attached to endpoint ${endpointId}`);
    }
    a.lastSeen = Date.now();
    return a;
  }

  /** A worker asked for a job: it is alive and idle. */
  taking(workerId: string): void {
    const w = this.workers.get(workerId);
    // Idle time counts from the end of the last job, not from the latest long-poll (workers re-poll constantly).
    if (w && w.state !== "stopping") {
      w.everReady = true;
      if (w.state !== "idle") {
        w.state = "idle";
        w.lastActive = Date.now();
      }
    }
    const a = this.attached.get(workerId);
    if (a) {
      a.state = "idle";
      a.lastSeen = Date.now();
    }
  }

  /** A worker got a job. */
  running(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w && w.state !== "stopping") {
      w.state = "running";
      w.lastActive = Date.now();
    }
    const a = this.attached.get(workerId);
    if (a) {
      a.state = "running";
      a.lastSeen = Date.now();
    }
  }

  /** A worker's heartbeat. */
  pinged(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) {
      w.lastPing = Date.now();
      w.lastActive = Math.max(w.lastActive, w.state === "running" ? Date.now() : w.lastActive);
    }
    const a = this.attached.get(workerId);
    if (a) a.lastSeen = Date.now();
  }

  /** A worker polls its stop channel: from now on cancel and timeout are signalled to it, not enforced by a kill. */
  listensForStops(workerId: string): void {
    const w = this.workers.get(workerId) ?? this.attached.get(workerId);
    if (w) w.stopChannel = true;
  }

  /**
   * Stop a job on its worker (cancel or execution timeout). A worker that polls `job-stop` is told through it, as
   * Runpod does (runpod-python rp_scale.py `monitor_stop_signals`); one that never polled is killed, as the
   * platform stops a worker whose job timed out (docs endpoint-configurations.mdx, "Execution timeout").
   */
  stopJob(workerId: string | undefined, jobId: string, reason: string, timedOut = false): void {
    if (!workerId) return;
    const w = this.workers.get(workerId);
    const a = this.attached.get(workerId);
    if (a || w?.stopChannel) {
      this.store.requestStop(workerId, jobId);
      if (!w) return;
      w.stopRequested = true;
      // A timed-out job's worker that is still busy with it after the grace period is stopped by the platform.
      if (timedOut) {
        const grace = setTimeout(() => {
          if (w.state === "running" && w.proc.exitCode === null)
            this.stop(w, `${reason}; still busy after the stop signal`, "SIGKILL");
        }, this.opts.stopGraceMs ?? 15_000);
        grace.unref?.();
      }
      return;
    }
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
    for (const a of this.attached.values()) {
      if (a.endpointId !== endpointId) continue;
      if (a.state === "running") c.running++;
      else c.idle++;
    }
    c.initializing += this.startingCount(endpointId);
    c.throttled = this.throttled.get(endpointId) ?? 0;
    const since = Date.now() - UNHEALTHY_WINDOW_MS;
    c.unhealthy = (this.crashes.get(endpointId) ?? []).filter((t) => t > since).length;
    return c;
  }

  /** LB: a ready worker for one request (starting one if needed); undefined when none got ready in time. */
  async acquireLb(endpointId: string, signal?: AbortSignal): Promise<EmulatedWorker | undefined> {
    const deadline = Date.now() + (this.opts.lbWaitMs ?? LB_NO_WORKER_WAIT_MS);
    this.lbWaiters.set(endpointId, (this.lbWaiters.get(endpointId) ?? 0) + 1);
    try {
      this.rescale(endpointId);
      while (Date.now() < deadline && !signal?.aborted && !this.closed) {
        const ready = this.alive(endpointId).filter((w) => w.state === "idle" || w.state === "running");
        const endpoint = this.control.endpoints.get(endpointId);
        const best = ready.sort((a, b) => a.inflight - b.inflight)[0];
        // A worker takes up to `scalerValue` concurrent requests before the REQUEST_COUNT scaler adds another
        // (docs endpoint-configurations.mdx: workers = ceil(requests / scalerValue)); at workersMax they queue.
        const room = best && (!endpoint || best.inflight < requestsPerWorker(endpoint));
        if (best && (room || !endpoint || this.alive(endpointId).length >= endpoint.workersMax)) {
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
    for (const s of this.starting.values()) clearTimeout(s.timer);
    this.starting.clear();
    const all = [...this.workers.values()];
    for (const w of all) this.stop(w, "emulator stopping");
    // The shell a worker started from exits at once; what it started may finish its job (SIGTERM's grace).
    const end = Date.now() + 3000;
    while (all.some((w) => groupAlive(w.proc.pid)) && Date.now() < end) await Bun.sleep(25);
    for (const w of all) signalGroup(w.proc.pid, "SIGKILL");
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private lbWaiting(endpointId: string): number {
    return this.lbWaiters.get(endpointId) ?? 0;
  }

  private startingCount(endpointId: string): number {
    let n = 0;
    for (const s of this.starting.values()) if (s.endpointId === endpointId) n++;
    return n;
  }

  private stopAll(endpointId: string): void {
    for (const [id, s] of this.starting) {
      if (s.endpointId !== endpointId) continue;
      clearTimeout(s.timer);
      this.starting.delete(id);
    }
    for (const w of this.workers.values()) if (w.endpointId === endpointId) this.stop(w, "endpoint deleted");
    for (const a of [...this.attached.values()]) if (a.endpointId === endpointId) this.detach(a, "endpoint deleted");
  }

  /** Tell the user once per endpoint version how to attach a worker to an endpoint the emulator starts none for. */
  private announce(endpoint: EmulatedEndpoint): void {
    const key = `${endpoint.id}@${endpoint.version}`;
    if (this.announced.has(key)) return;
    this.announced.add(key);
    const image = this.control.templateOf(endpoint)?.imageName ?? "?";
    (this.opts.announceAttach ? wlog.info : wlog.debug)(
      `endpoint ${endpoint.id} (${endpoint.name}) runs image ${image}, which the emulator does not model and no ` +
        `--image command maps: no worker is started for it. Start one that speaks Runpod's worker protocol with:\n` +
        exportLines(this.attachEnv(endpoint)),
    );
  }

  /** Scale up by one: after the cold start, the process. */
  private start(endpoint: EmulatedEndpoint, launch: Launch): void {
    if (launch.kind === "container" && launch.image.workerProgram && !this.program) {
      // Images built from worker/Dockerfile.* carry the bundled worker program: bundle it once, then start.
      this.programLoading ??= import("../runpod/worker-program")
        .then(({ workerProgram }) => workerProgram())
        .then((p) => {
          this.program = p.files;
          this.rescale(endpoint.id);
        });
      return;
    }
    const id = runpodId();
    const delay = this.opts.coldStartMs ?? 0;
    if (delay <= 0) {
      this.spawn(id, endpoint, launch);
      return;
    }
    const timer = setTimeout(() => {
      this.starting.delete(id);
      const current = this.control.endpoints.get(endpoint.id);
      if (!current || this.closed) return;
      this.spawn(id, current, this.launch(current));
      this.rescale(current.id);
    }, delay);
    this.starting.set(id, { endpointId: endpoint.id, timer });
  }

  /**
   * The folder of an endpoint's network volume (created on demand, named after the volume as under the local pool),
   * which Runpod mounts at /runpod-volume in each worker (docs.runpod.io/storage/network-volumes, "Network volumes
   * for Serverless").
   */
  private volumeDir(endpoint: EmulatedEndpoint): string | undefined {
    const volume = endpoint.networkVolumeId ? this.control.volumes.get(endpoint.networkVolumeId) : undefined;
    if (!volume) return undefined;
    return networkVolumeFolder(volume.name, this.opts.volumesDir);
  }

  /** The supervisor's own temp folder: container roots and the images' tool folders. */
  private workDir(): string {
    if (!this.dir) {
      this.dir = mkdtempSync(join(tmpdir(), "flash-emulator-containers-"));
      removeWhenGone(this.dir); // a `kill -9` of the emulator leaves no container root behind either
    }
    return this.dir;
  }

  /**
   * A container's "/" and env: a fresh folder standing for the image's file system, with what Runpod puts into
   * it (the Flash artifact at /root/.runpod/artifact.tar.gz, the volume at /runpod-volume), the image's PATH, ENV
   * and WORKDIR. The host's few personal variables stay (HOME keeps Bun's package cache shared; a container would
   * start with an empty one); its PATH does not: the container sees only the image's tools.
   */
  private container(
    id: string,
    endpoint: EmulatedEndpoint,
    launch: Extract<Launch, { kind: "container" }>,
  ): { root: string; env: Record<string, string> } {
    const image = launch.image;
    const root = join(this.workDir(), id);
    const files: Record<string, string> = {};
    if (image.workerProgram)
      for (const [name, code] of Object.entries(this.program ?? {})) files[`opt/flash/${name}`] = code;
    makeRoot(image, root, files);
    const link = (containerPath: string, host: string) => {
      mkdirSync(dirname(join(root, containerPath)), { recursive: true });
      symlinkSync(host, join(root, containerPath));
    };
    for (const [path, host] of Object.entries(this.opts.mountsFor?.(endpoint) ?? {})) link(path, host);
    const volume = this.volumeDir(endpoint);
    if (volume) link("/runpod-volume", volume);
    const host = hostEnv();
    delete host.PATH;
    delete host.TMPDIR;
    delete host.SHELL;
    const releases = this.opts.bunReleasesUrl?.() ?? `${this.opts.baseUrl()}/_emulator/bun-releases`;
    return { root, env: { ...host, ...containerEnv(image, root, toolsDir(image, this.workDir()), releases) } };
  }

  /**
   * QB: jobs one worker runs at once. flash's worker reads it from FLASH_MAX_CONCURRENCY (the config's
   * `maxConcurrency`, in its template) and takes that many through job-take-batch; the emulator counts a worker for
   * that many queued or running jobs, so it does not start workers that would find the queue already drained.
   */
  private jobsPerWorker(endpoint: EmulatedEndpoint): number {
    const set =
      endpoint.env.find((v) => v.key === "FLASH_MAX_CONCURRENCY")?.value ??
      templateEnv(this.control.templateOf(endpoint)).FLASH_MAX_CONCURRENCY;
    return Math.max(1, Math.floor(Number(set)) || 1);
  }

  private spawn(id: string, endpoint: EmulatedEndpoint, launch: Launch): void {
    if (launch.kind === "external") return;
    const template = this.control.templateOf(endpoint);
    const lb = endpoint.type === "LB";
    let box: { root: string; env: Record<string, string> } | undefined;
    try {
      box = launch.kind === "container" ? this.container(id, endpoint, launch) : undefined;
    } catch (error) {
      wlog.error(`cannot start a worker for endpoint ${endpoint.id}: ${(error as Error).message}`);
      this.holdUntil.set(endpoint.id, Date.now() + 30_000);
      return;
    }
    const mappedVolume = !box && this.volumeDir(endpoint);
    const env: Record<string, string> = {
      ...(box?.env ?? hostEnv()),
      ...templateEnv(template),
      ...Object.fromEntries(endpoint.env.map((v) => [v.key, v.value])),
      // Emulated workers run on this machine, not in a container: never apt-get install here unless asked to.
      FLASH_WORKER_APT: process.env.FLASH_EMULATOR_APT === "install" ? "install" : "check",
      ...this.opts.env,
      // A mapped command runs on the host as it is: it finds the volume's folder here instead of /runpod-volume.
      ...(mappedVolume ? { FLASH_VOLUME_PATH: mappedVolume } : {}),
      ...platformEnv(endpoint, id, {
        baseUrl: this.opts.baseUrl(),
        pingIntervalMs: this.opts.pingIntervalMs,
        webhooks: !lb || !!this.opts.lbWebhookEnv,
      }),
    };
    // Container ports → host ports, as `docker -p` maps them: the template says PORT=80, the process here gets a
    // free port in its place. No PORT in the template, no PORT for the worker (Runpod docs
    // load-balancing/overview.mdx: PORT defaults to 80, which a local process cannot own for itself).
    let port: number | undefined;
    let healthPort: number | undefined;
    if (lb && env.PORT) {
      const containerPort = env.PORT;
      port = freePort();
      env.PORT = String(port);
      const containerHealth = env.PORT_HEALTH ?? containerPort;
      healthPort = containerHealth === containerPort ? port : freePort();
      if (env.PORT_HEALTH) env.PORT_HEALTH = String(healthPort);
    } else if (lb) {
      wlog.warn(
        `LB endpoint ${endpoint.id}: its template sets no PORT, so its workers get none (Runpod's default is 80, ` +
          "which a local process cannot have to itself): no request can reach them",
      );
    }
    const cwd = box && launch.kind === "container" ? join(box.root, launch.image.workdir) : undefined;
    // Its own process group (a terminal's Ctrl+C reaches the emulator, which stops its containers itself), as a
    // container is its own process tree; the reaper stops the group should the emulator die first.
    // FLASH_EMULATOR_PID: flash's worker program and bootstrap also exit once the emulator is gone.
    const proc = Bun.spawn(launch.argv, {
      env: { ...env, FLASH_EMULATOR_PID: String(process.pid) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      cwd,
      detached: true,
    });
    watchGroup(proc.pid); // killed by the reaper if this process dies first, even by `kill -9`
    const now = Date.now();
    const worker: EmulatedWorker = {
      id,
      endpointId: endpoint.id,
      version: endpoint.version,
      proc,
      state: "initializing",
      startedAt: now,
      lastActive: now,
      lastPing: 0,
      port,
      healthPort,
      inflight: 0,
      tail: [],
      stopChannel: false,
      stopRequested: false,
      everReady: false,
      root: box?.root,
    };
    this.workers.set(id, worker);
    wlog.debug(`worker ${id} started for endpoint ${endpoint.id} (${endpoint.name}), pid ${proc.pid}`);
    this.opts.onLog?.(worker, "system", `create container ${endpoint.name}`);
    this.opts.onLog?.(worker, "system", `start container (pid ${proc.pid})`);
    void pipeLines(proc.stdout as ReadableStream<Uint8Array>, worker, this.opts.onLog);
    void pipeLines(proc.stderr as ReadableStream<Uint8Array>, worker, this.opts.onLog);
    void proc.exited.then((code) => this.exited(worker, code));
    if (healthPort !== undefined) {
      void this.probeLb(worker, templateEnv(template).HEALTH_CHECK_PATH || "/ping");
    }
  }

  /** Runpod's LB health check (docs load-balancing/overview.mdx): 200 healthy, 204 initializing, else unhealthy. */
  private async probeLb(w: EmulatedWorker, path: string): Promise<void> {
    while (w.state === "initializing" && w.proc.exitCode === null && !this.closed) {
      try {
        const res = await fetch(`http://127.0.0.1:${w.healthPort}${path}`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) {
          w.state = "idle";
          w.everReady = true;
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
    signalGroup(w.proc.pid, signal);
    if (signal === "SIGTERM") {
      const force = setTimeout(() => signalGroup(w.proc.pid, "SIGKILL"), 3000);
      force.unref?.();
    }
  }

  private detach(a: AttachedWorker, reason: string): void {
    this.attached.delete(a.id);
    this.store.dropWaiter(a.endpointId, a.id);
    this.store.dropStops(a.id);
    this.store.workerLost(a.id, reason);
    wlog.info(`worker ${a.id} of endpoint ${a.endpointId} detached (${reason})`);
  }

  private exited(w: EmulatedWorker, code: number | null): void {
    this.opts.onLog?.(w, "system", `container exited with code ${code ?? w.proc.signalCode}`);
    // A container's processes end with it: what its start command left running gets a stop's grace, then goes.
    const pid = w.proc.pid;
    if (!groupAlive(pid)) forgetGroup(pid);
    else
      setTimeout(() => {
        signalGroup(pid, "SIGKILL");
        forgetGroup(pid);
      }, 3000).unref?.();
    this.workers.delete(w.id);
    this.store.dropWaiter(w.endpointId, w.id);
    this.store.dropStops(w.id);
    // The container's file system goes with it.
    if (w.root) rmSync(w.root, { recursive: true, force: true });
    const expected = w.state === "stopping" || w.stopRequested;
    const how = `exited with code ${code ?? w.proc.signalCode}`;
    if (!expected) {
      const tail = w.tail.slice(-5).join("\n");
      wlog.warn(`worker ${w.id} of endpoint ${w.endpointId} ${how}${tail ? `:\n${tail}` : ""}`);
      if (!w.everReady) {
        // A worker that dies before it is ready is what Runpod shows as unhealthy (a crash loop): count it, and
        // back off before the next start instead of spinning.
        const list = (this.crashes.get(w.endpointId) ?? []).filter((t) => t > Date.now() - UNHEALTHY_WINDOW_MS);
        list.push(Date.now());
        this.crashes.set(w.endpointId, list);
        const backoff = Math.min(30_000, (this.opts.crashBackoffMs ?? 2000) * 2 ** (list.length - 1));
        this.holdUntil.set(w.endpointId, Date.now() + backoff);
      }
    }
    this.store.workerLost(w.id, how);
    this.rescale(w.endpointId);
  }

  private tick(): void {
    const now = Date.now();
    for (const endpoint of this.control.endpoints.values()) {
      const alive = this.alive(endpoint.id);
      // A new endpoint version (template, GPU or type change) replaces the workers of older ones once they idle.
      for (const w of alive) {
        if (w.version < endpoint.version && (w.state === "idle" || w.state === "initializing") && w.inflight === 0) {
          this.stop(w, `endpoint version ${endpoint.version} replaces ${w.version}`);
        }
      }
      let spare =
        this.alive(endpoint.id).length -
        Math.max(endpoint.workersMin, endpoint.type === "LB" ? 0 : this.store.demand(endpoint.id));
      for (const w of this.alive(endpoint.id)) {
        if (spare <= 0) break;
        const idleMs = endpoint.idleTimeout * (this.opts.idleSecondMs ?? 1000);
        if (w.state === "idle" && w.inflight === 0 && now - w.lastActive > idleMs) {
          this.stop(w, `idle for ${endpoint.idleTimeout} s`);
          spare--;
        }
      }
      this.rescale(endpoint.id);
    }
    const timeout = this.opts.attachedTimeoutMs ?? 60_000;
    for (const a of [...this.attached.values()]) {
      if (now - a.lastSeen > timeout) this.detach(a, `made no call for ${Math.round(timeout / 1000)} s`);
    }
  }
}

/** LB: concurrent requests one worker gets before another starts (REQUEST_COUNT scaler value; else 1). */
function requestsPerWorker(endpoint: EmulatedEndpoint): number {
  return endpoint.scalerType === "REQUEST_COUNT" ? Math.max(1, endpoint.scalerValue) : 1;
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

/** Signal every process of a worker's group (the start command and what it started); a gone group is no error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** True while any process of the group led by `pid` exists. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
