/**
 * A worker pool for one resource config, with the endpoint's semantics: `workersMin` warm workers, up to
 * `workersMax` started on demand, idle workers stopped after `idleTimeout` seconds, calls beyond capacity
 * queued in FIFO order, a per-call timeout that kills and replaces the worker, and crash isolation.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConsolaInstance } from "consola";
import { setting } from "../../base/settings";
import { type ResourceConfig, resolveSecrets } from "../config";
import type { FromWorker, FunctionRequest, FunctionResponse, OnChunk, WireError } from "../protocol";
import { callLabel } from "../protocol";
import { startWorker, type WorkerHandle, type WorkerKind } from "./worker-handle";

/**
 * Default per-call limit when the config sets none (`executionTimeoutMs: 0`): Runpod's (core/runpod/platform.ts
 * `DEFAULT_EXECUTION_TIMEOUT_MS`, which remote/ may not import; test/house.test.ts holds the two equal).
 */
const DEFAULT_EXECUTION_TIMEOUT_MS = 600_000;

/**
 * How long a streamed call's generator may take to reach its next step after its caller stopped reading; past it
 * the worker (stuck in an await or a loop that never yields) is stopped and replaced.
 */
const CANCEL_GRACE_MS = 5_000;

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

interface Pending {
  req: FunctionRequest;
  label: string;
  resolve: (res: FunctionResponse) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** A streamed call: each chunk, as the worker sends it. */
  onChunk?: OnChunk;
  settled?: boolean;
}

type SlotState = "starting" | "idle" | "busy" | "stopping";

interface Slot {
  n: number;
  handle: WorkerHandle;
  state: SlotState;
  generation: number;
  devices: string | null;
  /** When it last became idle (the most recently used idle worker takes the next call). */
  idleSince: number;
  idleTimer?: ReturnType<typeof setTimeout>;
  callTimer?: ReturnType<typeof setTimeout>;
  /** `cancelled`: the caller of this streamed call stopped reading; the worker is closing its generator. */
  current?: { pending: Pending; seq: number; cancelled?: boolean };
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

const warmups = { holds: 0, waiting: new Set<Pool>() };

/**
 * Hold back the start of warm (`workersMin`) workers until the returned release is called. `flash run` holds them
 * while it imports the examples and opens its socket, so worker processes do not compete with start-up for the
 * CPU; calls are never held (a call starts the workers it needs at once).
 */
export function holdWarmups(): () => void {
  warmups.holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--warmups.holds > 0) return;
    const waiting = [...warmups.waiting];
    warmups.waiting.clear();
    for (const pool of waiting) pool.warmUp();
  };
}

/** One pool of workers for one resource config. */
export class Pool {
  private current: ResourceConfig;
  private readonly opts: PoolOptions;
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private readonly owners = new Map<string, Slot>();
  private readonly stopping = new Set<Promise<void>>();
  /** Modules its workers run, with when each was last prepared (a reload forgets those it did not prepare again). */
  private readonly modules = new Map<string, number>();
  private generation = 0;
  private seq = 0;
  private workerCount = 0;
  private stopped = false;
  private lastStartProblem = "";
  private stats = { calls: 0, errors: 0, timeouts: 0, crashes: 0, lastColdStartMs: null as number | null };

  constructor(config: ResourceConfig, opts: PoolOptions) {
    this.current = config;
    this.opts = opts;
    this.ensureMin();
  }

  /** The config the pool follows (the newest one of its name). */
  get config(): ResourceConfig {
    return this.current;
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
    if (config === this.current || this.stopped) return;
    // Workers keep the environment they started with: a new one needs new workers.
    const newEnv =
      JSON.stringify(config.env) !== JSON.stringify(this.current.env) ||
      config.networkVolume?.name !== this.current.networkVolume?.name;
    this.current = config;
    if (newEnv) void this.recycle();
    for (const slot of [...this.slots]) {
      if (this.live() <= config.workersMax) break;
      if (slot.state === "idle") this.retire(slot, "workersMax lowered");
    }
    for (const slot of this.slots) if (slot.state === "idle") this.armIdle(slot);
    this.ensureMin();
    this.pump();
  }

  /** The per-call limit in milliseconds. */
  get timeoutMs(): number {
    return this.config.executionTimeoutMs || DEFAULT_EXECUTION_TIMEOUT_MS;
  }

  /** Tell the pool about a module its workers will run, so new workers import it while warming up. */
  addModule(file: string): void {
    this.modules.set(file, performance.now());
  }

  /**
   * After a reload that purged the modules under `dirs`: forget those that were not prepared again since
   * `since` (deleted, renamed, or now failing to load). Returns whether any of the pool's modules lay there.
   */
  forgetModules(dirs: string[], since: number): boolean {
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
        if (slot.state === "idle") this.retire(slot, "recycled after a reload (it held remote objects)");
        continue;
      }
      slot.handle.send({ type: "reload", files });
    }
    this.ensureMin();
    this.pump();
  }

  /** Workers holding old code stop (busy ones after their call); new calls get new workers. */
  async recycle(): Promise<void> {
    this.generation++;
    this.owners.clear();
    for (const slot of [...this.slots]) {
      if (slot.state === "idle") this.retire(slot, "recycled after a reload");
      // starting and busy workers notice the new generation when they become idle
    }
    this.ensureMin();
    this.pump();
  }

  /** Stop every worker and fail what is still queued or running; resolves when all workers are gone. */
  async shutdown(why = "flash is shutting down"): Promise<void> {
    if (this.stopped) return this.settle();
    this.stopped = true;
    for (const p of this.queue.splice(0)) this.settle1(p, failure("PoolStopped", `${p.label}: ${why}`));
    for (const slot of [...this.slots]) {
      const running = slot.current?.pending;
      slot.current = undefined;
      if (running) this.settle1(running, failure("PoolStopped", `${running.label}: ${why}`));
      this.retire(slot, "shutdown", true);
    }
    await this.settle();
  }

  private async settle(): Promise<void> {
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
      idleTimeout: this.config.idleTimeout,
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

  // ---- scheduling ----

  private live(): number {
    return this.slots.size; // retired workers leave `slots` at once
  }

  private ownerOf(p: Pending): Slot | undefined {
    const id = p.req.instanceId;
    if (!id) return undefined;
    const owner = this.owners.get(id);
    if (owner && this.slots.has(owner)) return owner;
    if (owner) this.owners.delete(id);
    return undefined;
  }

  private idleSlot(): Slot | undefined {
    // The most recently used idle worker first, so the others reach their idle timeout and scale down.
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.state !== "idle" || s.generation !== this.generation) continue;
      if (!best || s.idleSince >= best.idleSince) best = s;
    }
    return best;
  }

  private pump(): void {
    if (this.stopped) return;
    for (let i = 0; i < this.queue.length; ) {
      const p = this.queue[i]!;
      const owner = this.ownerOf(p);
      const slot = owner ? (owner.state === "idle" ? owner : undefined) : this.idleSlot();
      if (!slot) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.dispatch(slot, p);
    }
    const waiting = this.queue.filter((p) => !this.ownerOf(p)).length;
    const starting = [...this.slots].filter((s) => s.state === "starting" && s.generation === this.generation).length;
    for (let deficit = waiting - starting; deficit > 0 && this.live() < this.config.workersMax; deficit--) {
      if (!this.spawn()) break;
    }
  }

  /** Start workers up to `workersMin` (now, or when warm-ups are no longer held). */
  warmUp(): void {
    this.ensureMin();
  }

  private ensureMin(): void {
    if (warmups.holds > 0) {
      warmups.waiting.add(this);
      return;
    }
    while (!this.stopped && this.live() < this.config.workersMin) if (!this.spawn()) return;
  }

  /**
   * A worker of a config with a network volume sees it where `volume.path` looks: FLASH_VOLUME_NAME names it and
   * FLASH_VOLUME_PATH is its folder (created on demand), standing in for Runpod's mount at /runpod-volume, which a
   * local process cannot have. Every config naming the volume gets the same folder. Other workers get neither.
   */
  private volumeEnv(): Record<string, string> {
    const volume = this.config.networkVolume;
    if (!volume) return {};
    const dir = join(this.opts.volumesDir ?? resolve(setting("FLASH_VOLUMES_DIR")!), volume.name);
    mkdirSync(dir, { recursive: true });
    return { FLASH_VOLUME_NAME: volume.name, FLASH_VOLUME_PATH: dir };
  }

  /** Start one worker; false when the OS refused to start it (reported, and the oldest waiting call fails). */
  private spawn(): boolean {
    const n = ++this.workerCount;
    const devices = this.opts.devices?.() ?? null;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...resolveSecrets(this.config.env),
      ...this.opts.env,
    };
    env.FLASH_WORKER = "1";
    env.FLASH_RESOURCE_NAME = this.config.name;
    env.FLASH_WORKER_ID = String(n);
    env.FLASH_PRELOAD = JSON.stringify([...this.modules]);
    delete env.FLASH_VOLUME_NAME; // never inherited from the server: only a config's own volume is mounted
    delete env.FLASH_VOLUME_PATH;
    Object.assign(env, this.volumeEnv());
    if (devices !== null) {
      env.CUDA_VISIBLE_DEVICES = devices;
      // CUDA numbers devices fastest-first by default; nvidia-smi (whose indices we pin) numbers them by PCI bus.
      env.CUDA_DEVICE_ORDER ??= "PCI_BUS_ID";
    } else if (!this.config.isGpu) env.CUDA_VISIBLE_DEVICES = ""; // a CPU endpoint has no GPU
    const started = performance.now();
    let slot: Slot;
    let handle: WorkerHandle;
    try {
      handle = startWorker({
        kind: this.opts.kind,
        env,
        onMessage: (msg) => this.onMessage(slot, msg),
        onExit: (code, detail) => this.onExit(slot, code, detail),
      });
    } catch (err) {
      this.startFailed(spawnProblem(err, env));
      return false;
    }
    slot = { n, handle, state: "starting", generation: this.generation, devices, idleSince: 0, instances: new Set() };
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
    const i = this.queue.findIndex((p) => !this.ownerOf(p));
    if (i < 0) return;
    const [p] = this.queue.splice(i, 1);
    this.stats.errors++;
    this.settle1(
      p!,
      failure("WorkerStartError", `${p!.label}: a worker of "${this.config.name}" could not start: ${why}`),
    );
  }

  private onReady(slot: Slot, ms: number): void {
    if (!this.slots.has(slot) || slot.state !== "starting") return;
    this.stats.lastColdStartMs = Math.round(ms * 10) / 10;
    const where = slot.devices !== null ? `, GPU ${slot.devices || "none"}` : "";
    this.opts.log.info(
      `scale up: worker ${slot.n} ready (${this.opts.kind}${where}, cold start ${ms.toFixed(0)} ms), ${this.live()}/${this.config.workersMax} workers`,
    );
    this.release(slot);
  }

  private dispatch(slot: Slot, p: Pending): void {
    // The abort listener stays while the call runs: a caller that goes away stops its worker (see `abort`).
    clearTimeout(slot.idleTimer);
    slot.state = "busy";
    slot.handle.hold(true);
    const seq = ++this.seq;
    slot.current = { pending: p, seq };
    if (p.req.instanceId) {
      this.owners.set(p.req.instanceId, slot);
      slot.instances.add(p.req.instanceId);
    }
    this.stats.calls++;
    slot.callTimer = setTimeout(() => this.onTimeout(slot, seq), this.timeoutMs);
    slot.handle.send({ type: "call", seq, req: p.req });
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === "fault") return this.onFault(slot, msg);
    if (msg.type === "reloaded") {
      this.opts.log.debug(`worker ${slot.n}: ${msg.modules} module(s) imported again in ${msg.ms.toFixed(1)} ms`);
      return;
    }
    const current = slot.current;
    if (!current || msg.type === "ready" || msg.seq !== current.seq) return; // a late message from a call that already timed out
    if (msg.type === "output") {
      this.opts.log.log(`${current.pending.label}: ${msg.line}`);
      return;
    }
    if (msg.type === "chunk") {
      if (!current.cancelled) current.pending.onChunk?.(msg.chunk);
      return;
    }
    if (msg.type !== "done") return;
    clearTimeout(slot.callTimer);
    slot.current = undefined;
    if (current.cancelled) {
      this.opts.log.debug(`${current.pending.label}: generator closed after its caller stopped reading`);
      return this.release(slot);
    }
    if (!msg.res.success) this.stats.errors++;
    this.settle1(current.pending, msg.res);
    this.release(slot);
  }

  /**
   * An error escaped a call on this worker. If it came from the call now running, that call fails with it;
   * otherwise it is left over from an earlier call: the running call (someone else's) finishes, and the worker,
   * whose state can no longer be trusted, is replaced, so no later call pays for it.
   */
  private onFault(slot: Slot, msg: Extract<FromWorker, { type: "fault" }>): void {
    if (!this.slots.has(slot)) return;
    this.stats.crashes++;
    const what = msg.kind === "rejection" ? "an unhandled promise rejection" : "an uncaught error";
    const current = slot.current;
    if (current && msg.seq === current.seq) {
      clearTimeout(slot.callTimer);
      slot.current = undefined;
      this.stats.errors++;
      const p = current.pending;
      this.opts.log.warn(
        `${p.label}: ${what} in a callback it started (${msg.name}: ${msg.message}); replacing worker ${slot.n}`,
      );
      this.settle1(
        p,
        failure(
          "WorkerCrashed",
          `${p.label}: ${what} in a callback it started (${msg.name}: ${msg.message}); its worker was replaced`,
        ),
      );
      this.retire(slot, `${what} in ${p.label}`, true);
      this.ensureMin();
      this.pump();
      return;
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
    if (slot.state === "idle" || slot.state === "starting") {
      this.retire(slot, `${what} ${from}`);
      this.ensureMin();
      this.pump();
    }
  }

  /** A worker is free again: back to idle (arming its idle timer), or stopped if it holds old code. */
  private release(slot: Slot): void {
    if (this.stopped) return this.retire(slot, "shutdown");
    if (slot.generation !== this.generation || slot.retireWhenIdle) {
      this.retire(slot, slot.retireWhenIdle ?? "recycled after a reload");
      this.ensureMin();
      this.pump(); // its place under workersMax is free for a worker with the new code
      return;
    }
    slot.state = "idle";
    slot.idleSince = performance.now();
    slot.handle.hold(false);
    this.armIdle(slot);
    this.pump();
  }

  private armIdle(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.state !== "idle" || this.live() <= this.config.workersMin) return;
      if (slot.instances.size > 0) return; // a worker holding remote objects keeps them (and stays) until recycled
      this.retire(slot, `idle for ${this.config.idleTimeout}s`);
    }, this.config.idleTimeout * 1000);
    (slot.idleTimer as { unref?: () => void }).unref?.();
  }

  private onTimeout(slot: Slot, seq: number): void {
    const current = slot.current;
    if (!current || current.seq !== seq) return;
    slot.current = undefined;
    this.stats.errors++;
    this.stats.timeouts++;
    const p = current.pending;
    this.opts.log.warn(
      `${p.label} timed out after ${this.timeoutMs} ms; stopping worker ${slot.n} and starting a fresh one`,
    );
    this.settle1(
      p,
      failure(
        "TimeoutError",
        `${p.label} did not finish within ${this.timeoutMs} ms (executionTimeoutMs); its worker was stopped`,
        504,
      ),
    );
    this.retire(slot, "timed out", true);
    this.ensureMin();
    this.pump();
  }

  private onExit(slot: Slot, code: number | null, detail: string): void {
    if (!this.slots.has(slot)) return; // we stopped it ourselves
    const wasStarting = slot.state === "starting";
    this.drop(slot);
    const running = slot.current?.pending;
    slot.current = undefined;
    if (running) {
      this.stats.errors++;
      this.stats.crashes++;
      this.opts.log.warn(
        `worker ${slot.n} exited (code ${code})${detail} while running ${running.label}; replacing it`,
      );
      this.settle1(
        running,
        failure(
          "WorkerCrashed",
          `the worker running ${running.label} exited (code ${code})${detail}; the pool replaced it`,
        ),
      );
    } else if (wasStarting) {
      this.opts.log.error(`worker ${slot.n} failed to start (code ${code})${detail}`);
      // Fail the oldest call that was waiting for a worker rather than retrying a broken start forever.
      const i = this.queue.findIndex((p) => !this.ownerOf(p));
      if (i >= 0) {
        const [p] = this.queue.splice(i, 1);
        this.stats.errors++;
        this.settle1(
          p!,
          failure(
            "WorkerStartError",
            `${p!.label}: a worker of "${this.config.name}" could not start (code ${code})${detail}`,
          ),
        );
      }
      if (this.queue.length === 0 && this.live() === 0) return; // do not loop on a broken start with nothing to do
    } else {
      this.opts.log.warn(`idle worker ${slot.n} exited (code ${code})${detail}`);
    }
    this.ensureMin();
    this.pump();
  }

  private drop(slot: Slot): void {
    this.slots.delete(slot);
    clearTimeout(slot.idleTimer);
    clearTimeout(slot.callTimer);
    for (const id of slot.instances) if (this.owners.get(id) === slot) this.owners.delete(id);
  }

  private retire(slot: Slot, why: string, hard = false): void {
    if (!this.slots.has(slot)) return;
    this.drop(slot);
    slot.state = "stopping";
    if (why !== "shutdown")
      this.opts.log.info(
        `scale down: worker ${slot.n} stopped (${why}), ${this.live()}/${this.config.workersMax} workers`,
      );
    const done: Promise<void> = slot.handle.stop(hard).finally(() => this.stopping.delete(done));
    this.stopping.add(done);
  }

  private abort(p: Pending): void {
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle1(p, failure("AbortError", `${p.label}: the call was aborted while waiting for a worker`));
      return;
    }
    for (const slot of this.slots) {
      if (slot.current?.pending !== p) continue;
      if (p.req.stream) return this.cancelStream(slot, slot.current);
      slot.current = undefined;
      this.settle1(p, failure("AbortError", `${p.label}: the call was aborted; its worker was stopped`));
      this.retire(slot, "call aborted", true);
      this.ensureMin();
      this.pump();
      return;
    }
  }

  /**
   * The caller of a streamed call stopped reading: it gets its answer now; the worker closes the generator at its
   * next step (its `finally` blocks run) and stays, unless the generator does not get there within the grace.
   */
  private cancelStream(slot: Slot, current: NonNullable<Slot["current"]>): void {
    const p = current.pending;
    current.cancelled = true;
    slot.handle.send({ type: "cancel", seq: current.seq });
    this.settle1(p, failure("AbortError", `${p.label}: the caller stopped reading the stream`));
    clearTimeout(slot.callTimer);
    slot.callTimer = setTimeout(() => {
      if (slot.current !== current) return;
      slot.current = undefined;
      this.opts.log.warn(
        `${p.label}: its generator did not stop within ${CANCEL_GRACE_MS} ms of its caller leaving; stopping worker ${slot.n}`,
      );
      this.retire(slot, "stream cancelled", true);
      this.ensureMin();
      this.pump();
    }, CANCEL_GRACE_MS);
  }

  private settle1(p: Pending, res: FunctionResponse): void {
    if (p.settled) return;
    p.settled = true;
    if (p.onAbort) p.signal?.removeEventListener("abort", p.onAbort);
    p.resolve(res);
  }
}

/** Why the OS refused to start a worker, in words a user can act on (E2BIG: name the variable that is too large). */
function spawnProblem(err: unknown, env: Record<string, string>): string {
  const e = err as NodeJS.ErrnoException;
  const message = String(e?.message ?? err).split("\n")[0]!;
  if (e?.code !== "E2BIG" && !/E2BIG/.test(message)) return message;
  const [name, value] = Object.entries(env).sort((a, b) => b[1].length - a[1].length)[0] ?? ["?", ""];
  return (
    `the environment is too large for a new process (E2BIG): ${name} is ${Math.ceil(value.length / 1024)} KiB, ` +
    "and Linux allows 128 KiB per variable; keep large values in a file and put its path in .env"
  );
}
