/**
 * Targets: where remote calls run. `local` (a worker pool per resource config on this machine) is the
 * default; the Runpod target and its emulator plug in through `setTarget`. The current target is kept on
 * `globalThis`, so every copy of flash's modules in a process sees the same one.
 */
import { onShutdown } from "../base/lifecycle";
import { log } from "../base/log";
import { registerStatusSection, unregisterStatusSection } from "../base/health";
import { LocalTarget } from "./local/local-target";
import type { FunctionRequest, FunctionResponse, OnChunk, RemoteFunctionRef } from "./protocol";

export type { FunctionRequest, FunctionResponse, RemoteFunctionRef } from "./protocol";

/** Where remote functions run. */
export interface Target {
  /** "local" | "runpod" | "emulator". */
  readonly name: string;
  /**
   * Run one call; never rejects for a failure of the function itself (that is `success: false`). A streamed call
   * (`req.stream`, a generator function) hands each chunk to `onChunk` as soon as it arrives, then resolves with a
   * response whose `chunks` counts them; a target that cannot stream answers `success: false` saying so.
   */
  call(fn: RemoteFunctionRef, req: FunctionRequest, signal?: AbortSignal, onChunk?: OnChunk): Promise<FunctionResponse>;
  /** Called once per `remote()` at import time, so a target can get ready early (warm `workersMin` workers). */
  prepare?(fn: RemoteFunctionRef): void;
  /**
   * Hot reload: drop workers that hold old code, so new calls get new workers. With `changed`, only workers
   * running modules under `changed.dirs` (which the reload purged); a pool none of whose modules was prepared
   * again since `changed.since` is no longer used by any module and stops. Without it, every worker.
   */
  recycle?(changed?: ReloadedModules): Promise<void>;
  /** Ctrl+C: stop workers, delete dev endpoints. Must be safe to call twice. */
  shutdown(): Promise<void>;
  /** Shown on /health under the target's name. */
  status?(): unknown;
}

/** What a reload purged and re-imported: module folders, and when (`performance.now()`) the re-import began. */
export interface ReloadedModules {
  dirs: string[];
  since: number;
  /** The changed paths (absolute): with them, workers re-import only what they touch and stay warm. */
  files?: string[];
}

/** Where the current target is kept (one per process, on `globalThis`). */
interface TargetHolder {
  target?: Target;
}

const slot: TargetHolder = ((globalThis as any)[Symbol.for("flash.remote.target")] ??= {});

// Whatever target is current at Ctrl+C (or at the end of `flash run`) is shut down, so no worker outlives flash.
onShutdown("remote target", () => slot.target?.shutdown());

function show(t: Target): void {
  registerStatusSection(t.name, () => t.status?.() ?? { target: t.name });
}

/** Make `t` the target of every remote call from now on; a previous target is shut down. */
export function setTarget(t: Target): void {
  const previous = slot.target;
  if (previous === t) return;
  slot.target = t;
  if (previous) {
    unregisterStatusSection(previous.name);
    previous
      .shutdown()
      .catch((err) => log.warn(`stopping the ${previous.name} target failed: ${(err as Error)?.message ?? err}`));
  }
  show(t);
}

/** The current target (created as the local worker pool target on first use, or after it was shut down). */
export function currentTarget(): Target {
  // A test file (or an embedder) may shut the target down and go on: the next call gets a fresh local pool.
  if (!slot.target || (slot.target instanceof LocalTarget && slot.target.stopped)) {
    slot.target = new LocalTarget();
    show(slot.target);
  }
  return slot.target;
}
