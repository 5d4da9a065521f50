/**
 * Worker handles: one running worker (a Bun Worker thread or a subprocess) behind one small interface, so
 * the pool does not care which. Both run `worker/pool-entry.ts`; both report their exit, expected or not.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isCompiled } from "../../base/binary";
import { killGroup, watchGroup } from "../../base/process-group";
import type { FromWorker, ToWorker } from "../protocol";

/** How a worker runs. */
export type WorkerKind = "thread" | "process";

/** What a pool needs from a worker. */
export interface WorkerHandle {
  readonly kind: WorkerKind;
  /** OS process id (subprocess workers). */
  readonly pid?: number;
  /** Resolves when the worker has booted and preloaded; rejects if it exits first. */
  readonly ready: Promise<void>;
  send(msg: ToWorker): void;
  /** Keep the event loop alive while a call is in flight; let it go when idle. */
  hold(busy: boolean): void;
  /** Stop the worker; `hard` kills at once (timeouts), otherwise it gets a moment to exit. Resolves once it is gone. */
  stop(hard?: boolean): Promise<void>;
}

/** Callbacks and settings of a new worker. */
export interface WorkerSpec {
  kind: WorkerKind;
  env: Record<string, string>;
  onMessage: (msg: FromWorker) => void;
  /** Called once when the worker is gone, for whatever reason. */
  onExit: (code: number | null, detail: string) => void;
}

/** The worker program for threads: the source file, or its embedded copy in the compiled binary. */
function threadEntry(): string {
  if (isCompiled()) return "./core/remote/worker/pool-entry.ts";
  return poolEntryFile();
}

let entryFile: string | undefined;

/** The pool worker's entry on disk: `../worker/pool-entry.ts` in the source tree; beside this module in a
 * workspace's `.flash/runtime/` bundle, where every module is flat and a shim of that name starts the worker. */
function poolEntryFile(): string {
  entryFile ??=
    [join(import.meta.dir, "..", "worker", "pool-entry.ts"), join(import.meta.dir, "pool-entry.ts")].find((f) =>
      existsSync(f),
    ) ?? join(import.meta.dir, "pool-entry.ts");
  return entryFile;
}

/**
 * The command line of a subprocess worker: `flash __worker` when this module is embedded in the binary, else
 * the entry file beside this module run by `process.execPath` — bun, or the flash binary acting as bun
 * (`BUN_BE_BUN=1`, set in `processEnv`) when an example imported flash's runtime from disk.
 */
function processCommand(): string[] {
  if (isCompiled()) return [process.execPath, "__worker"];
  return [process.execPath, poolEntryFile()];
}

/** The environment of a subprocess worker: `env`, plus what makes `processCommand()` run the worker program. */
function processEnv(env: Record<string, string>): Record<string, string> {
  if (isCompiled()) return env; // `flash __worker` must stay flash, not bun
  return { ...env, BUN_BE_BUN: "1" };
}

/** Start a worker of the given kind. */
export function startWorker(spec: WorkerSpec): WorkerHandle {
  return spec.kind === "thread" ? startThread(spec) : startProcess(spec);
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // a start failure is handled by whoever awaits `ready`; never an unhandled rejection
  return { promise, resolve, reject };
}

function startThread(spec: WorkerSpec): WorkerHandle {
  const ready = deferred();
  const gone = deferred();
  let exited = false;
  let lastError = "";
  // Bun's Worker has ref()/unref() (Node's API) beyond the DOM type.
  const worker = new Worker(threadEntry(), { env: spec.env } as WorkerOptions) as Worker & {
    ref(): void;
    unref(): void;
  };
  worker.addEventListener("message", (e: MessageEvent) => {
    const msg = (typeof e.data === "string" ? JSON.parse(e.data) : e.data) as FromWorker;
    if (msg?.type === "ready") ready.resolve();
    else spec.onMessage(msg);
  });
  worker.addEventListener("error", (e: ErrorEvent) => {
    lastError =
      String(e.message ?? e)
        .split("\n")
        .filter((l) => /\berror\b|Error/.test(l))
        .pop() ?? String(e.message);
  });
  worker.addEventListener("close", (e: Event) => {
    exited = true;
    const code = (e as unknown as { code?: number }).code ?? null;
    const detail = lastError ? `: ${lastError.trim()}` : "";
    ready.reject(new Error(`worker thread exited during start (code ${code})${detail}`));
    gone.resolve();
    spec.onExit(code, detail);
  });
  worker.unref();
  return {
    kind: "thread",
    ready: ready.promise,
    // JSON text, as to a process: Bun clones a string faster than the object (and calls carry JSON values only).
    send: (msg) => worker.postMessage(JSON.stringify(msg)),
    hold: (busy) => (busy ? worker.ref() : worker.unref()),
    stop: async () => {
      if (exited) return;
      worker.terminate();
      // "close" follows terminate(); the bound only guards shutdown against a runtime that never reports it.
      await Promise.race([gone.promise, Bun.sleep(3000)]);
    },
  };
}

function startProcess(spec: WorkerSpec): WorkerHandle {
  const ready = deferred();
  let exited = false;
  const proc = Bun.spawn(processCommand(), {
    env: { ...processEnv(spec.env), FLASH_PARENT_PID: String(process.pid) },
    stdin: "ignore",
    stdout: "inherit",
    stderr: "inherit",
    // Its own process group: a terminal's Ctrl+C reaches the server, which lets calls finish, then stops workers.
    detached: true,
    ipc(message) {
      // JSON text both ways: Bun serialises a structured message in time that grows much faster than its size.
      const msg = (typeof message === "string" ? JSON.parse(message) : message) as FromWorker;
      if (msg?.type === "ready") ready.resolve();
      else spec.onMessage(msg);
    },
    onExit(_p, exitCode, signalCode) {
      exited = true;
      killGroup(proc.pid); // it leads its group (`detached`): a stopped or crashed worker leaves nothing running
      const detail = signalCode ? ` (signal ${signalCode})` : "";
      ready.reject(new Error(`worker process exited during start (code ${exitCode})${detail}`));
      spec.onExit(exitCode, detail);
    },
  });
  proc.unref();
  watchGroup(proc.pid);
  return {
    kind: "process",
    pid: proc.pid,
    ready: ready.promise,
    send: (msg) => {
      if (!exited) proc.send(JSON.stringify(msg));
    },
    hold: (busy) => (busy ? proc.ref() : proc.unref()),
    stop: async (hard) => {
      if (exited) return;
      proc.kill(hard ? "SIGKILL" : "SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 2000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}
