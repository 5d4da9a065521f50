/**
 * The worker's side of its link to the pool: how messages travel (JSON text, posted to a thread or sent over IPC
 * to a process: its cost does not depend on the shape of the arguments, and Bun clones a string faster than an
 * object), and the guards that keep a worker process from outliving or fighting the server: it ignores the
 * terminal's Ctrl+C (the server drains it), it dies with its parent, and an error that escapes a call (a throwing
 * timer, an unhandled rejection) is reported, not fatal.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { FromWorker, ToWorker } from "../protocol";

declare const self: {
  postMessage(m: unknown): void;
  addEventListener(t: "message", f: (e: MessageEvent) => void): void;
};

/** The pool, as seen from inside a worker. */
export interface PoolChannel {
  send(msg: FromWorker): void;
  onMessage(handler: (msg: ToWorker) => void): void;
  /** Run one call, so an error escaping it later is traced back to it. */
  inCall<T>(seq: number, label: string, fn: () => Promise<T>): Promise<T>;
}

/** The call (by seq and label) whose callbacks are running, so an error escaping them names its origin. */
const origin = new AsyncLocalStorage<{ seq: number; label: string }>();

/** Open the link to the pool that started this thread or process, and install the worker's guards. */
export function openPoolChannel(): PoolChannel {
  const thread = !Bun.isMainThread;
  if (!thread && typeof process.send !== "function") {
    throw new Error("flash __worker is started by flash's worker pool (it needs an IPC channel)");
  }
  const send = thread
    ? (m: FromWorker) => self.postMessage(JSON.stringify(m))
    : (m: FromWorker) => {
        if (process.connected) process.send!(JSON.stringify(m));
      };
  // The latest calls, newest first: an unhandled rejection carries no async context, so its origin is one of them.
  const recent: string[] = [];
  const fault = (kind: "uncaught" | "rejection") => (err: unknown) => {
    const from = origin.getStore();
    const guess = recent.length ? recent.join(" or ") : null;
    const message = String((err as Error)?.message ?? err)
      .split("\n")[0]!
      .slice(0, 500);
    const name = String((err as Error)?.name ?? "Error");
    send({ type: "fault", kind, seq: from?.seq ?? null, origin: from?.label ?? guess, name, message });
  };
  process.on("uncaughtException", fault("uncaught"));
  process.on("unhandledRejection", fault("rejection"));
  if (!thread) guardProcess();
  return {
    send,
    onMessage(handler) {
      if (thread)
        self.addEventListener("message", (e) =>
          handler((typeof e.data === "string" ? JSON.parse(e.data) : e.data) as ToWorker),
        );
      else process.on("message", (m) => handler((typeof m === "string" ? JSON.parse(m) : m) as ToWorker));
    },
    inCall(seq, label, fn) {
      if (recent[0] !== label) recent.splice(0, recent.length, label, ...recent.filter((l) => l !== label).slice(0, 2));
      return origin.run({ seq, label }, fn);
    },
  };
}

/**
 * A worker process: never outlive the server, never take the terminal's Ctrl+C. The pool starts it in its own
 * process group, so a terminal's SIGINT does not reach it; SIGINT sent to it directly is ignored too (the pool stops
 * its workers with SIGTERM/SIGKILL once in-flight calls finished).
 */
function guardProcess(): void {
  process.on("SIGINT", () => undefined);
  const parent = Number(process.env.FLASH_PARENT_PID) || process.ppid;
  delete process.env.FLASH_PARENT_PID;
  // Linux: the kernel kills us when the server dies, even while a call spins in a loop that never yields.
  dieWithParent();
  const orphaned = () => process.ppid !== parent;
  if (orphaned()) leave(); // the server died before we asked the kernel to tell us
  // Elsewhere (and as a second line): the IPC channel closing, or a new parent, means the server is gone.
  process.on("disconnect", leave);
  const poll = setInterval(() => orphaned() && leave(), 1000);
  poll.unref();
}

/** The server is gone: stop this worker's process group (it leads one), so the programs it started stop too. */
function leave(): never {
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch {
    // not a group leader (started by hand): only this process stops
  }
  process.exit(0);
}

/** `prctl(PR_SET_PDEATHSIG, SIGKILL)` through libc on Linux; elsewhere (or without libc) the poll above does it. */
function dieWithParent(): void {
  if (process.platform !== "linux") return;
  try {
    const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
    });
    const PR_SET_PDEATHSIG = 1;
    const SIGKILL = 9;
    libc.symbols.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  } catch {
    // musl or no FFI: the IPC disconnect and the ppid poll still stop an idle or yielding worker
  }
}
