/**
 * The scheduler of one resource config's workers, with the endpoint's semantics: `workersMin` warm workers, up to
 * `workersMax` started on demand, idle workers stopped after the idle timeout, calls beyond capacity queued in FIFO
 * order, a per-call timeout that kills and replaces the worker, and crash isolation. What a worker's environment
 * holds is `worker-env.ts`; how it runs (thread or process) is `worker-handle.ts`.
 */
import type { ConsolaInstance } from "consola";
import type { ResourceConfig } from "../config";
import type { FromWorker, FunctionRequest, FunctionResponse, OnChunk, WireError } from "../protocol";
import { callLabel } from "../protocol";
import { spawnProblem, workerEnv } from "./worker-env";
import { startWorker, type WorkerHandle, type WorkerKind, type WorkerSpec } from "./worker-handle";

/**
 * Default per-call limit when the config sets none (`executionTimeoutMs: 0`): Runpod's (core/runpod/platform.ts
 * `DEFAULT_EXECUTION_TIMEOUT_MS`, which remote/ may not import; test/house.test.ts holds the two equal).
 */
const DEFAULT_EXECUTION_TIMEOUT_MS = 600_000;

/**
 * How long a streamed call's generator may take to reach its next step after its caller stopped reading, by default;
 * past it the worker (stuck in an await or a loop that never yields) is stopped and replaced.
 */
const DEFAULT_CANCEL_GRACE_MS = 5_000;

/** How to run the pool's workers. */
export interface PoolOptions {
  kind: WorkerKind;
  log: ConsolaInstance;
  /** `CUDA_VISIBLE_DEVICES` for each new worker (GPU configs); null leaves the variable alone. */
  devices?: () => string | null;
  /** Extra environment of every worker. */
  env?: Record<string, string>;
  /** The folder that holds one folder per network volume (`.flash/volumes` of the workspace). */
  volumesDir?: string;
  /** How long a cancelled stream's generator may take to stop before its worker is stopped (default 5 s). */
  cancelGraceMs?: number;
  /** How long a worker above `workersMin` may stay idle, in ms (default: the config's `idleTimeout` seconds). */
  idleTimeoutMs?: number;
  /** Starts one worker (default `startWorker`: a thread or a process); tests pass an in-memory one. */
  start?: (spec: WorkerSpec) => WorkerHandle;
  /** While it returns true, warm (`workersMin`) workers wait for `warmUp()`; calls still start the workers they need. */
  warmupsHeld?: () => boolean;
}

/** A snapshot of a pool, as shown on /health. */
export interface PoolStatus {
  name: string;
  kind: string;
  workerKind: WorkerKind;
  workersMin: number;
  workersMax: number;
  idleTimeout: number;
  workers: { total: number; busy: number; idle: number; starting: number };
  queue: number;
  calls: number;
  errors: number;
  timeouts: number;
  crashes: number;
  lastColdStartMs: number | null;
  devices: (string | null)[];
}

/** A call waiting in the queue or running on a worker. */
interface Pending {
  req: FunctionRequest;
  label: string;
  resolve: (res: FunctionResponse) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** A streamed call: each chunk, as the worker sends it. */
  onChunk?: OnChunk;
  resolved?: boolean;
}

type SlotState = "starting" | "idle" | "busy" | "stopping";

/**
 * A call a worker runs. `cancelled`: its caller went away (a streamed call's generator is closing; on a worker that
 * runs several calls, a plain call's answer is dropped rather than the worker stopped under its neighbours).
 */
interface Running {
  pending: Pending;
  seq: number;
  cancelled?: boolean;
  /** Its execution limit (then the cancel grace of a streamed call). */
  timer?: ReturnType<typeof setTimeout>;
}

/** One worker of the pool and what the scheduler knows of it. */
interface WorkerSlot {
  n: number;
  handle: WorkerHandle;
  state: SlotState;
  generation: number;
  devices: string | null;
  /** When it last became idle (the most recently used idle worker takes the next call). */
  idleSince: number;
  idleTimer?: ReturnType<typeof setTimeout>;
  /** The calls in flight on it, by seq: up to the config's `maxConcurrency` (busy while any runs). */
  running: Map<number, Running>;
  /** Remote objects living in this worker (their calls must come back here). */
  instances: Set<string>;
  /** Why this worker is replaced once its current call is done (an error escaped a call; a reload). */
  retireWhenIdle?: string;
}

function failure(name: string, message: string, status?: number): FunctionResponse {
  const error: WireError = { name, message };
  if (status) error.status = status;
  return { success: false, error };
}

/** One pool of workers for one resource config. */
export class Pool {
  #config: ResourceConfig;
  private readonly opts: PoolOptions;
  private readonly slots = new Set<WorkerSlot>();
  private readonly queue: Pending[] = [];
  private readonly owners = new Map<string, WorkerSlot>();
  private readonly stopping = new Set<Promise<void>>();
  private readonly idleWaiters: (() => void)[] = [];
  /** Modules its workers run, with when each was last prepared (a reload forgets those it did not prepare again). */
  private readonly modules = new Map<string, number>();
  private generation = 0;
  private seq = 0;
  private workerCount = 0;
  private stopped = false;
  private lastStartProblem = "";
  private stats = { calls: 0, errors: 0, timeouts: 0, crashes: 0, lastColdStartMs: null as number | null };

  constructor(config: ResourceConfig, opts: PoolOptions) {
    this.#config = config;
    this.opts = opts;
    this.warmUp();
  }

  /** The config the pool follows (the newest one of its name). */
  get config(): ResourceConfig {
    return this.#config;
  }

  /** How the pool runs its workers. */
  get workerKind(): WorkerKind {
    return this.opts.kind;
  }

  /**
   * Adopt a newer config of the same name (a hot reload re-created it): limits and timeouts apply at once,
   * new workers get its environment; idle workers beyond a lowered `workersMax` stop.
   */
  reconfigure(config: ResourceConfig): void {
    if (config === this.#config || this.stopped) return;
    // Workers keep the environment they started with: a new one needs new workers.
    const newEnv =
      JSON.stringify(config.env) !== JSON.stringify(this.#config.env) ||
      config.networkVolume?.name !== this.#config.networkVolume?.name;
    this.#config = config;
    if (newEnv) void this.recycle();
    for (const slot of [...this.slots]) {
      if (this.slots.size <= config.workersMax) break;
      if (slot.state === "idle") this.retire(slot, "workersMax lowered");
    }
    for (const slot of this.slots) if (slot.state === "idle") this.armIdle(slot);
    this.refill();
  }

  /** The per-call limit in milliseconds. */
  get timeoutMs(): number {
    return this.config.executionTimeoutMs || DEFAULT_EXECUTION_TIMEOUT_MS;
  }

  /** How long a worker above `workersMin` may stay idle, in milliseconds. */
  get idleTimeoutMs(): number {
    return this.opts.idleTimeoutMs ?? this.config.idleTimeout * 1000;
  }

  /** Tell the pool about a module its workers will run, so new workers import it while warming up. */
  addModule(file: string): void {
    this.modules.set(file, performance.now());
  }

  /**
   * After a reload that purged the modules under `dirs`: drop those that were not prepared again since `since`
   * (deleted, renamed, or now failing to load). Returns whether any of the pool's modules lay there.
   */
  dropModulesUnder(dirs: string[], since: number): boolean {
    let touched = false;
    for (const [file, at] of this.modules) {
      if (!dirs.some((d) => file === d || file.startsWith(d.endsWith("/") ? d : `${d}/`))) continue;
      touched = true;
      if (at < since) this.modules.delete(file);
    }
    return touched;
  }

  /** How many modules the pool's workers run (0: nothing uses the pool any more). */
  get moduleCount(): number {
    return this.modules.size;
  }

  /**
   * Run one call on a worker of this pool (queued when every worker is busy). Never rejects. A streamed call
   * (`req.stream`) hands each chunk to `onChunk` as it arrives; aborting it then closes the worker's generator.
   */
  call(req: FunctionRequest, signal?: AbortSignal, onChunk?: OnChunk): Promise<FunctionResponse> {
    const label = callLabel(req);
    if (this.stopped)
      return Promise.resolve(failure("PoolStopped", `${label}: the worker pool "${this.config.name}" is shut down`));
    if (signal?.aborted) return Promise.resolve(failure("AbortError", `${label}: the call was aborted`));
    if (!this.modules.has(req.module)) this.modules.set(req.module, performance.now());
    return new Promise<FunctionResponse>((resolve) => {
      const pending: Pending = { req, label, resolve, signal, onChunk };
      if (signal) {
        pending.onAbort = () => this.abort(pending);
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.pump();
    });
  }

  /**
   * Hot reload that keeps workers warm: each worker drops from its module cache only `files` (absolute paths) and
   * the modules importing them, and imports its remote functions again, before its next call; modules that did not
   * change keep their state (a loaded model). Workers holding remote objects are replaced instead, since their
   * instances were built by the old code.
   */
  refresh(files: string[]): void {
    if (this.stopped) return;
    for (const slot of [...this.slots]) {
      if (slot.instances.size > 0) {
        slot.retireWhenIdle = "recycled after a reload (it held remote objects)";
        if (slot.state === "idle") this.retire(slot, slot.retireWhenIdle);
        continue;
      }
      slot.handle.send({ type: "reload", files });
    }
    this.refill();
  }

  /** Workers holding old code stop (busy ones after their call); new calls get new workers. */
  async recycle(): Promise<void> {
    this.generation++;
    this.owners.clear();
    for (const slot of [...this.slots]) {
      if (slot.state === "idle") this.retire(slot, "recycled after a reload");
      // starting and busy workers notice the new generation when they become idle
    }
    this.refill();
  }

  /** Resolves once no call is queued or running (a deleted example's pool lets its calls finish, then stops). */
  drain(): Promise<void> {
    if (this.quiet()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private quiet(): boolean {
    return (
      this.queue.length === 0 && ![...this.slots].some((s) => [...s.running.values()].some((r) => !r.pending.resolved))
    );
  }

  /** Stop every worker and fail what is still queued or running; resolves when all workers are gone. */
  async shutdown(why = "flash is shutting down"): Promise<void> {
    if (this.stopped) return this.drained();
    this.stopped = true;
    for (const p of this.queue.splice(0)) this.resolveCall(p, failure("PoolStopped", `${p.label}: ${why}`));
    for (const slot of [...this.slots]) {
      for (const p of this.takeRunning(slot)) this.resolveCall(p, failure("PoolStopped", `${p.label}: ${why}`));
      this.retire(slot, "shutdown", true);
    }
    await this.drained();
  }

  /** Resolves once every worker being stopped is gone. */
  private async drained(): Promise<void> {
    while (this.stopping.size) await Promise.all([...this.stopping]);
  }

  /** A snapshot for /health. */
  status(): PoolStatus {
    const count = (s: SlotState) => [...this.slots].filter((x) => x.state === s).length;
    return {
      name: this.config.name,
      kind: this.config.kind,
      workerKind: this.opts.kind,
      workersMin: this.config.workersMin,
      workersMax: this.config.workersMax,
      idleTimeout: this.idleTimeoutMs / 1000, // seconds, as configured
      workers: { total: this.slots.size, busy: count("busy"), idle: count("idle"), starting: count("starting") },
      queue: this.queue.length,
      calls: this.stats.calls,
      errors: this.stats.errors,
      timeouts: this.stats.timeouts,
      crashes: this.stats.crashes,
      lastColdStartMs: this.stats.lastColdStartMs,
      devices: [...this.slots].map((s) => s.devices),
    };
  }

  /** Process ids of the subprocess workers (for tests and diagnostics). */
  pids(): number[] {
    return [...this.slots].map((s) => s.handle.pid).filter((p): p is number => typeof p === "number");
  }

  /**
   * Start the warm workers that are missing (up to `workersMin`; retired workers leave `slots` at once), unless
   * warm-ups are held: then the target calls this again when it releases them.
   */
  warmUp(): void {
    if (this.opts.warmupsHeld?.()) return;
    while (!this.stopped && this.slots.size < this.config.workersMin) if (!this.spawn()) return;
  }

  // ---- scheduling ----

  /** Top up the warm workers, then hand queued calls to idle workers (starting more when calls wait). */
  private refill(): void {
    this.warmUp();
    this.pump();
  }

  /** Stop a worker (its call, if any, was already answered) and let another take its place. */
  private replace(slot: WorkerSlot, why: string, hard = false): void {
    this.retire(slot, why, hard);
    this.refill();
  }

  private ownerOf(p: Pending): WorkerSlot | undefined {
    const id = p.req.instanceId;
    if (!id) return undefined;
    const owner = this.owners.get(id);
    if (owner && this.slots.has(owner)) return owner;
    if (owner) this.owners.delete(id);
    return undefined;
  }

  /** Whether a worker can take one more call now (idle, or busy below `maxConcurrency` and not being replaced). */
  private hasRoom(s: WorkerSlot): boolean {
    if (s.state === "idle") return true;
    return (
      s.state === "busy" &&
      s.running.size < this.config.maxConcurrency &&
      !s.retireWhenIdle &&
      s.generation === this.generation
    );
  }

  private freeSlot(): WorkerSlot | undefined {
    // A busy worker with room first (the fullest), as a Runpod worker takes jobs up to its concurrency; then the
    // most recently used idle worker, so the others reach their idle timeout and scale down.
    let best: WorkerSlot | undefined;
    for (const s of this.slots) {
      if (s.generation !== this.generation || !this.hasRoom(s)) continue;
      if (!best || s.running.size > best.running.size) best = s;
      else if (s.running.size === best.running.size && s.idleSince >= best.idleSince) best = s;
    }
    return best;
  }

  private pump(): void {
    if (this.stopped) return;
    for (let i = 0; i < this.queue.length; ) {
      const p = this.queue[i]!;
      const owner = this.ownerOf(p);
      const slot = owner ? (this.hasRoom(owner) ? owner : undefined) : this.freeSlot();
      if (!slot) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.dispatch(slot, p);
    }
    const waiting = this.queue.filter((p) => !this.ownerOf(p)).length;
    // A caller waits for a worker still starting (a warm-up): keep the process alive until it serves.
    if (waiting) for (const s of this.slots) if (s.state === "starting") s.handle.hold(true);
    const starting = [...this.slots].filter((s) => s.state === "starting" && s.generation === this.generation).length;
    // Each new worker will take up to maxConcurrency of the waiting calls.
    const needed = Math.ceil(waiting / this.config.maxConcurrency);
    for (let deficit = needed - starting; deficit > 0 && this.slots.size < this.config.workersMax; deficit--) {
      if (!this.spawn()) break;
    }
  }

  /** Start one worker; false when it could not be started (reported, and the oldest waiting call fails). */
  private spawn(): boolean {
    const n = ++this.workerCount;
    const devices = this.opts.devices?.() ?? null;
    const env = workerEnv({
      config: this.config,
      n,
      modules: this.modules.keys(),
      devices,
      env: this.opts.env,
      volumesDir: this.opts.volumesDir,
    });
    const started = performance.now();
    let slot: WorkerSlot;
    let handle: WorkerHandle;
    try {
      handle = (this.opts.start ?? startWorker)({
        kind: this.opts.kind,
        env,
        onMessage: (msg) => this.onMessage(slot, msg),
        onExit: (code, detail) => this.onExit(slot, code, detail),
      });
    } catch (err) {
      this.startFailed(spawnProblem(err, env));
      return false;
    }
    slot = {
      n,
      handle,
      state: "starting",
      generation: this.generation,
      devices,
      idleSince: 0,
      instances: new Set(),
      running: new Map(),
    };
    if (this.queue.length) handle.hold(true); // a caller is waiting for this worker: keep the process alive until it serves
    this.slots.add(slot);
    handle.ready.then(
      () => this.onReady(slot, performance.now() - started),
      () => undefined, // onExit reports and cleans up
    );
    return true;
  }

  /** A worker could not even be started: say why once per cause, and fail the oldest call waiting for a worker. */
  private startFailed(why: string): void {
    if (why !== this.lastStartProblem) this.opts.log.error(`cannot start a worker of "${this.config.name}": ${why}`);
    this.lastStartProblem = why;
    this.failOldestWaiting(`a worker of "${this.config.name}" could not start: ${why}`);
  }

  /** Fail the oldest call that waits for any worker (rather than retrying a broken start forever). */
  private failOldestWaiting(why: string): void {
    const i = this.queue.findIndex((p) => !this.ownerOf(p));
    if (i < 0) return;
    const [p] = this.queue.splice(i, 1);
    this.stats.errors++;
    this.resolveCall(p!, failure("WorkerStartError", `${p!.label}: ${why}`));
  }

  private onReady(slot: WorkerSlot, ms: number): void {
    if (!this.slots.has(slot) || slot.state !== "starting") return;
    this.stats.lastColdStartMs = Math.round(ms * 10) / 10;
    const where = slot.devices !== null ? `, GPU ${slot.devices || "none"}` : "";
    this.opts.log.info(
      `scale up: worker ${slot.n} ready (${this.opts.kind}${where}, cold start ${ms.toFixed(0)} ms), ${this.slots.size}/${this.config.workersMax} workers`,
    );
    this.release(slot);
  }

  private dispatch(slot: WorkerSlot, p: Pending): void {
    // The abort listener stays while the call runs: a caller that goes away stops its worker (see `abort`).
    clearTimeout(slot.idleTimer);
    slot.state = "busy";
    slot.handle.hold(true);
    const seq = ++this.seq;
    const running: Running = { pending: p, seq };
    slot.running.set(seq, running);
    if (p.req.instanceId) {
      this.owners.set(p.req.instanceId, slot);
      slot.instances.add(p.req.instanceId);
    }
    this.stats.calls++;
    running.timer = setTimeout(() => this.onTimeout(slot, seq), this.timeoutMs);
    slot.handle.send({ type: "call", seq, req: p.req });
  }

  private onMessage(slot: WorkerSlot, msg: FromWorker): void {
    if (msg.type === "fault") return this.onFault(slot, msg);
    if (msg.type === "reloaded") {
      this.opts.log.debug(`worker ${slot.n}: ${msg.modules} module(s) imported again in ${msg.ms.toFixed(1)} ms`);
      return;
    }
    if (msg.type === "ready") return;
    const running = slot.running.get(msg.seq);
    if (!running) return; // a late message from a call that already timed out
    if (msg.type === "output") {
      this.opts.log.log(`${running.pending.label}: ${msg.line}`);
      return;
    }
    if (msg.type === "chunk") {
      if (!running.cancelled) running.pending.onChunk?.(msg.chunk);
      return;
    }
    if (msg.type !== "done") return;
    clearTimeout(running.timer);
    slot.running.delete(msg.seq);
    if (running.cancelled) {
      this.opts.log.debug(`${running.pending.label}: finished after its caller went away`);
      return this.settle(slot);
    }
    if (!msg.res.success) this.stats.errors++;
    this.resolveCall(running.pending, msg.res);
    this.settle(slot);
  }

  /** A call on this worker ended: idle again once none runs; until then its freed room takes a waiting call. */
  private settle(slot: WorkerSlot): void {
    if (slot.running.size === 0) return this.release(slot);
    this.pump();
  }

  /** Empty a worker's calls in flight (it is being stopped): those still waiting for an answer. */
  private takeRunning(slot: WorkerSlot): Pending[] {
    const calls = [...slot.running.values()];
    for (const r of calls) clearTimeout(r.timer);
    slot.running.clear();
    return calls.filter((r) => !r.cancelled).map((r) => r.pending);
  }

  /** The other calls on a worker that is stopped because of `why`: they fail too, saying so. */
  private failNeighbours(slot: WorkerSlot, why: string): void {
    for (const p of this.takeRunning(slot)) {
      this.stats.errors++;
      this.resolveCall(p, failure("WorkerCrashed", `${p.label}: its worker was stopped (${why}) while running it`));
    }
  }

  /**
   * An error escaped a call on this worker. If it came from the call now running, that call fails with it;
   * otherwise it is left over from an earlier call: the running call (someone else's) finishes, and the worker,
   * whose state can no longer be trusted, is replaced, so no later call pays for it.
   */
  private onFault(slot: WorkerSlot, msg: Extract<FromWorker, { type: "fault" }>): void {
    if (!this.slots.has(slot)) return;
    this.stats.crashes++;
    const what = msg.kind === "rejection" ? "an unhandled promise rejection" : "an uncaught error";
    const running = msg.seq === null ? undefined : slot.running.get(msg.seq);
    if (running) {
      clearTimeout(running.timer);
      slot.running.delete(running.seq);
      this.stats.errors++;
      const p = running.pending;
      const cause = `${what} in a callback it started (${msg.name}: ${msg.message})`;
      this.opts.log.warn(`${p.label}: ${cause}; replacing worker ${slot.n}`);
      this.resolveCall(p, failure("WorkerCrashed", `${p.label}: ${cause}; its worker was replaced`));
      this.failNeighbours(slot, `${what} in ${p.label}`);
      return this.replace(slot, `${what} in ${p.label}`, true);
    }
    if (!msg.origin) {
      // No call ran here yet (module code at import): replacing the worker would only repeat it.
      this.opts.log.warn(`worker ${slot.n}: ${what} while loading its modules (${msg.name}: ${msg.message})`);
      return;
    }
    const from = `${msg.seq === null ? "probably " : ""}left over from ${msg.origin}`;
    this.opts.log.warn(
      `worker ${slot.n}: ${what} ${from} after its call returned (${msg.name}: ${msg.message}); the worker is replaced`,
    );
    slot.retireWhenIdle = "an error escaped an earlier call";
    if (slot.state === "idle" || slot.state === "starting") this.replace(slot, `${what} ${from}`);
  }

  /** A worker is free again: back to idle (arming its idle timer), or stopped if it holds old code. */
  private release(slot: WorkerSlot): void {
    if (this.stopped) return this.retire(slot, "shutdown");
    if (slot.generation !== this.generation || slot.retireWhenIdle) {
      // Its place under workersMax is free for a worker with the new code.
      return this.replace(slot, slot.retireWhenIdle ?? "recycled after a reload");
    }
    slot.state = "idle";
    slot.idleSince = performance.now();
    slot.handle.hold(false);
    this.armIdle(slot);
    this.pump();
  }

  private armIdle(slot: WorkerSlot): void {
    clearTimeout(slot.idleTimer);
    const ms = this.idleTimeoutMs;
    slot.idleTimer = setTimeout(() => {
      if (slot.state !== "idle") return;
      if (this.slots.size <= this.config.workersMin) {
        this.opts.log.debug(
          `worker ${slot.n} idle for ${ms / 1000} s: kept warm (workersMin ${this.config.workersMin})`,
        );
        return;
      }
      if (slot.instances.size > 0) return; // a worker holding remote objects keeps them (and stays) until recycled
      this.retire(slot, `idle for ${ms / 1000} s`);
    }, ms);
    (slot.idleTimer as { unref?: () => void }).unref?.();
  }

  private onTimeout(slot: WorkerSlot, seq: number): void {
    const running = slot.running.get(seq);
    if (!running) return;
    slot.running.delete(seq);
    this.stats.errors++;
    this.stats.timeouts++;
    const p = running.pending;
    this.opts.log.warn(
      `${p.label} timed out after ${this.timeoutMs} ms; stopping worker ${slot.n} and starting a fresh one`,
    );
    this.resolveCall(
      p,
      failure(
        "TimeoutError",
        `${p.label} did not finish within ${this.timeoutMs} ms (executionTimeoutMs); its worker was stopped`,
        504,
      ),
    );
    this.failNeighbours(slot, `${p.label} timed out`);
    this.replace(slot, "timed out", true);
  }

  private onExit(slot: WorkerSlot, code: number | null, detail: string): void {
    if (!this.slots.has(slot)) return; // we stopped it ourselves
    const wasStarting = slot.state === "starting";
    this.drop(slot);
    const busy = slot.running.size > 0;
    const calls = this.takeRunning(slot);
    if (busy) this.stats.crashes++;
    for (const running of calls) {
      this.stats.errors++;
      this.opts.log.warn(
        `worker ${slot.n} exited (code ${code})${detail} while running ${running.label}; replacing it`,
      );
      this.resolveCall(
        running,
        failure(
          "WorkerCrashed",
          `the worker running ${running.label} exited (code ${code})${detail}; the pool replaced it`,
        ),
      );
    }
    if (wasStarting) {
      this.opts.log.error(`worker ${slot.n} failed to start (code ${code})${detail}`);
      this.failOldestWaiting(`a worker of "${this.config.name}" could not start (code ${code})${detail}`);
      if (this.queue.length === 0 && this.slots.size === 0) return; // do not loop on a broken start with nothing to do
    } else if (!busy) {
      this.opts.log.warn(`idle worker ${slot.n} exited (code ${code})${detail}`);
    }
    this.refill();
  }

  private drop(slot: WorkerSlot): void {
    this.slots.delete(slot);
    clearTimeout(slot.idleTimer);
    for (const r of slot.running.values()) clearTimeout(r.timer);
    for (const id of slot.instances) if (this.owners.get(id) === slot) this.owners.delete(id);
  }

  /** Stop a worker and forget it at once (it leaves `slots`); `replace` also fills its place. */
  private retire(slot: WorkerSlot, why: string, hard = false): void {
    if (!this.slots.has(slot)) return;
    this.drop(slot);
    slot.state = "stopping";
    if (why !== "shutdown")
      this.opts.log.info(
        `scale down: worker ${slot.n} stopped (${why}), ${this.slots.size}/${this.config.workersMax} workers`,
      );
    const done: Promise<void> = slot.handle.stop(hard).finally(() => this.stopping.delete(done));
    this.stopping.add(done);
  }

  private abort(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.resolveCall(p, failure("AbortError", `${p.label}: the call was aborted while waiting for a worker`));
      return;
    }
    for (const slot of this.slots) {
      const running = [...slot.running.values()].find((r) => r.pending === p);
      if (!running) continue;
      if (p.req.stream) return this.cancelStream(slot, running);
      if (slot.running.size > 1) {
        // Stopping the worker would fail the calls beside it: this one's answer is dropped when it comes.
        running.cancelled = true;
        return this.resolveCall(p, failure("AbortError", `${p.label}: the call was aborted`));
      }
      slot.running.delete(running.seq);
      clearTimeout(running.timer);
      this.resolveCall(p, failure("AbortError", `${p.label}: the call was aborted; its worker was stopped`));
      return this.replace(slot, "call aborted", true);
    }
  }

  /**
   * The caller of a streamed call stopped reading: it gets its answer now; the worker closes the generator at its
   * next step (its `finally` blocks run) and stays, unless the generator does not get there within the grace.
   */
  private cancelStream(slot: WorkerSlot, running: Running): void {
    const p = running.pending;
    const grace = this.opts.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    running.cancelled = true;
    slot.handle.send({ type: "cancel", seq: running.seq });
    this.resolveCall(p, failure("AbortError", `${p.label}: the caller stopped reading the stream`));
    clearTimeout(running.timer);
    running.timer = setTimeout(() => {
      if (slot.running.get(running.seq) !== running) return;
      slot.running.delete(running.seq);
      this.opts.log.warn(
        `${p.label}: its generator did not stop within ${grace} ms of its caller leaving; stopping worker ${slot.n}`,
      );
      this.failNeighbours(slot, `${p.label}'s generator did not stop`);
      this.replace(slot, "stream cancelled", true);
    }, grace);
  }

  /** Answer a call once (a later answer, from a timeout or a shutdown racing it, is ignored). */
  private resolveCall(p: Pending, res: FunctionResponse): void {
    if (p.resolved) return;
    p.resolved = true;
    if (p.onAbort) p.signal?.removeEventListener("abort", p.onAbort);
    p.resolve(res);
    if (this.idleWaiters.length && this.quiet()) for (const done of this.idleWaiters.splice(0)) done();
  }
}
