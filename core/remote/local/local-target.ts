/**
 * The local target: one worker pool per resource config on this machine. Every config gets subprocess workers
 * (a crash, an OOM, `process.exit` or a `chdir` in user code fails only its call), GPU ones pinned to their GPUs
 * or on the CPU when there is no GPU (said once in the log). A CPU config may opt into thread workers
 * (`isolate: false`, or `FLASH_LOCAL_WORKERS=thread` for every config): a few microseconds less per call, but
 * they share the server's process.
 */
import { resolve } from "node:path";
import { logger } from "../../base/log";
import { GpuAllocator } from "./gpu-allocator";
import { Pool, type PoolOptions, type PoolStatus } from "./pool";
import type {
  FunctionRequest,
  FunctionResponse,
  OnChunk,
  ReloadedModules,
  RemoteFunctionRef,
  Target,
} from "../protocol";
import type { WorkerKind } from "./worker-handle";
import { setting } from "../../base/settings";

/** Options of the local target (tests use them to force a worker kind or a GPU list). */
export interface LocalTargetOptions {
  /** Force every pool's worker kind (env `FLASH_LOCAL_WORKERS=thread|process` does the same). */
  workerKind?: WorkerKind;
  /** GPU allocator (default: GPUs listed by nvidia-smi, read when the first GPU pool starts). */
  gpus?: GpuAllocator;
  /** Workspace root: network volumes live in its FLASH_VOLUMES_DIR (default: the current directory's). */
  root?: string;
  /** The folder of the network volumes itself (tests give each run a fresh one). */
  volumesDir?: string;
  /** Times and the worker factory of every pool (tests: a 50 ms grace, in-memory workers). */
  pool?: Pick<PoolOptions, "cancelGraceMs" | "idleTimeoutMs" | "start">;
}

/** Runs remote functions on worker pools on this machine. */
export class LocalTarget implements Target {
  readonly name = "local";
  private readonly pools = new Map<string, Pool>();
  /** Pools of deleted examples, finishing their calls before they stop. */
  private readonly draining = new Set<Pool>();
  private readonly seen = new WeakSet<object>();
  private readonly options: LocalTargetOptions;
  private gpus?: GpuAllocator;
  private saidNoGpu = false;
  private down = false;
  private warmupHolds = 0;

  /** True once shut down: a stopped target takes no calls, so `currentTarget()` replaces it. */
  get stopped(): boolean {
    return this.down;
  }

  constructor(options: LocalTargetOptions = {}) {
    this.options = options;
    this.gpus = options.gpus;
  }

  /**
   * Hold back the start of warm (`workersMin`) workers until the returned release is called. `flash run` holds them
   * while it imports the examples and opens its socket, so worker processes do not compete with start-up for the
   * CPU; calls are never held (a call starts the workers it needs at once).
   */
  holdWarmups(): () => void {
    this.warmupHolds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.warmupHolds > 0) return;
      for (const pool of this.pools.values()) pool.warmUp();
    };
  }

  /** Create the pool of a function's config at import time, so `workersMin` workers warm up early. */
  prepare(fn: RemoteFunctionRef): void {
    if (this.down) return;
    this.poolFor(fn).addModule(fn.module);
  }

  /** Run one call on the pool of its config (a streamed one hands its chunks to `onChunk` as they arrive). */
  call(
    fn: RemoteFunctionRef,
    req: FunctionRequest,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    if (this.down) {
      return Promise.resolve({
        success: false,
        error: { name: "PoolStopped", message: `${req.name ?? fn.name}: the local target is shut down` },
      });
    }
    return this.poolFor(fn).call(req, signal, onChunk);
  }

  /**
   * The pool of a config (by name), created on first use. A config object not seen before under a known name
   * (a hot reload re-created it) becomes the pool's config; if it needs other workers (thread vs process,
   * other GPUs), a new pool replaces the old one.
   */
  poolFor(fn: RemoteFunctionRef): Pool {
    const config = fn.config;
    const existing = this.pools.get(config.name);
    if (existing && (existing.config === config || this.seen.has(config))) return existing;
    this.seen.add(config);
    if (existing) {
      const sameWorkers =
        existing.workerKind === this.kindFor(config.isGpu, config.isolate) &&
        existing.config.isGpu === config.isGpu &&
        existing.config.gpuCount === config.gpuCount;
      if (sameWorkers) {
        existing.reconfigure(config);
        return existing;
      }
      logger("pool").info(`"${config.name}" now needs other workers; replacing its pool`);
      void existing.shutdown();
    }
    const pool = new Pool(config, {
      ...this.options.pool,
      warmupsHeld: () => this.warmupHolds > 0,
      kind: this.kindFor(config.isGpu, config.isolate),
      log: logger(config.name),
      devices: config.isGpu ? this.devicesFor(config.gpuCount) : undefined,
      volumesDir: this.options.volumesDir ?? resolve(this.options.root ?? process.cwd(), setting("FLASH_VOLUMES_DIR")!),
    });
    this.pools.set(config.name, pool);
    return pool;
  }

  private kindFor(isGpu: boolean, isolate: boolean): WorkerKind {
    const forced = this.options.workerKind ?? setting("FLASH_LOCAL_WORKERS");
    if (forced === "thread" || forced === "process") return forced;
    return isGpu || isolate ? "process" : "thread"; // `isolate` defaults to true: threads only when a CPU config asks
  }

  private devicesFor(gpuCount: number): () => string | null {
    this.gpus ??= new GpuAllocator();
    const gpus = this.gpus;
    if (!gpus.available && !this.saidNoGpu) {
      this.saidNoGpu = true;
      logger("pool").info("no GPU found (nvidia-smi lists none): GPU configs run on the CPU");
    }
    return () => gpus.assign(gpuCount);
  }

  /**
   * Hot reload: the pools running a module under `changed.dirs` re-import the changed files in their workers, which
   * stay warm (with `changed.files`), or replace their workers (without); every pool without `changed`. A pool
   * whose every module is gone (its example deleted, its config renamed) stops.
   */
  async recycle(changed?: ReloadedModules): Promise<void> {
    const recycling: Promise<void>[] = [];
    for (const [name, pool] of [...this.pools]) {
      if (changed && !pool.dropModulesUnder(changed.dirs, changed.since)) continue;
      if (changed && pool.moduleCount === 0) {
        this.pools.delete(name);
        logger("pool").info(`"${name}": no module uses it any more; stopping its workers once its calls finish`);
        // Its example was deleted or renamed: calls already made finish on its workers, new ones find no route.
        this.draining.add(pool);
        void pool
          .drain()
          .then(() => pool.shutdown(`the worker pool "${name}" was removed by a reload`))
          .finally(() => this.draining.delete(pool));
        continue;
      }
      if (changed?.files) pool.refresh(changed.files);
      else recycling.push(pool.recycle());
    }
    await Promise.all(recycling);
  }

  /** Stop every worker of every pool; resolves when they are all gone. Safe to call twice. */
  async shutdown(): Promise<void> {
    this.down = true;
    await Promise.all([...this.pools.values(), ...this.draining].map((p) => p.shutdown()));
  }

  /** Every pool, for /health. */
  status(): { target: string; gpus: number; pools: PoolStatus[] } {
    return {
      target: this.name,
      gpus: this.gpus?.gpus.length ?? 0,
      pools: [...this.pools.values()].map((p) => p.status()),
    };
  }

  /** The pools by config name (tests, diagnostics). */
  poolsByName(): ReadonlyMap<string, Pool> {
    return this.pools;
  }
}
