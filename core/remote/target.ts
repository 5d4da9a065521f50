/**
 * Targets: where remote calls run. `local` (a worker pool per resource config on this machine) is the
 * default; the Runpod target and its emulator plug in through `setTarget`. The current target is kept on
 * `globalThis`, so every copy of flash's modules in a process sees the same one.
 */
import { onShutdown } from "../base/lifecycle";
import { log } from "../base/log";
import { registerStatusSection, unregisterStatusSection } from "../base/health";
import { LocalTarget } from "./local/local-target";
import type { Target } from "./protocol";

export type { FunctionRequest, FunctionResponse, RemoteFunctionRef, Target } from "./protocol";

/** Where the current target is kept (one per process, on `globalThis`). */
interface TargetHolder {
  target?: Target;
  /** Whether the shutdown hook is registered (once per process, whichever copy of this module comes first). */
  hooked?: boolean;
}

const slot: TargetHolder = ((globalThis as any)[Symbol.for("flash.remote.target")] ??= {});

/** Make `t` current: shown on /health, and shut down with flash (Ctrl+C, the end of `flash run`), so no worker outlives it. */
function show(t: Target): void {
  if (!slot.hooked) {
    slot.hooked = true;
    onShutdown("remote target", () => slot.target?.shutdown());
  }
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
