// An in-memory pool worker for the scheduler's unit tests: the same WorkerHandle a real thread or process worker
// gives the pool (core/remote/local/worker-handle.ts), answering each call as a script says, on a microtask (a real
// worker answers asynchronously too). No thread, process or socket.
import type { WorkerHandle, WorkerKind, WorkerSpec } from "../../../core/remote/local/worker-handle";
import type { FromWorker, FunctionRequest, FunctionResponse, ToWorker } from "../../../core/remote/protocol";

/**
 * How a fake worker answers one call:
 * - `{ result }` / `{ error }`: done, with that result or error;
 * - `"hold"`: the call stays running until the test calls `finish()`, `fault()` or `exit()`;
 * - `{ chunks, then }`: a stream that sends its chunks, then ends (`"done"`), or waits (`"hold"`: it closes when
 *   the pool cancels it, as a generator does at its next step; `"stuck"`: it never reaches a next step);
 * - `{ fault }`: an error escapes the call's own callback (the call then never answers);
 * - `{ exit }`: the worker exits with that code while running it.
 */
export type Answer =
  | { result: unknown }
  | { error: { name: string; message: string } }
  | "hold"
  | { chunks: unknown[]; then: "done" | "hold" | "stuck" }
  | { fault: "uncaught" | "rejection" }
  | { exit: number };

/** Decides the answer to a call (by default every call returns its first argument). */
export type Script = (req: FunctionRequest, worker: FakeWorker) => Answer;

/** One fake worker; the test drives it, and reads what the pool sent it. */
export class FakeWorker implements WorkerHandle {
  readonly kind: WorkerKind;
  readonly env: Record<string, string>;
  /** Every message the pool sent, in order. */
  readonly sent: ToWorker[] = [];
  /** How the pool stopped it: `"hard"` (killed at once), `"soft"`, or not at all. */
  stopped: false | "hard" | "soft" = false;
  /** Whether it held the event loop (a call in flight) the last time the pool said. */
  held = false;
  readonly ready: Promise<void>;
  private readonly spec: WorkerSpec;
  private readonly script: Script;
  private bootNow!: () => void;
  private failBoot!: (e: Error) => void;
  private exited = false;
  private readonly streams = new Map<number, "hold" | "stuck">();

  constructor(spec: WorkerSpec, script: Script, autoBoot: boolean) {
    this.spec = spec;
    this.kind = spec.kind;
    this.env = spec.env;
    this.script = script;
    this.ready = new Promise<void>((resolve, reject) => ((this.bootNow = resolve), (this.failBoot = reject)));
    this.ready.catch(() => undefined);
    if (autoBoot) queueMicrotask(() => this.boot());
  }

  /** The worker's number in its pool (`FLASH_WORKER_ID`). */
  get id(): number {
    return Number(this.env.FLASH_WORKER_ID);
  }

  /** The calls it was sent, in order. */
  get calls(): { seq: number; req: FunctionRequest }[] {
    return this.sent.flatMap((m) => (m.type === "call" ? [{ seq: m.seq, req: m.req }] : []));
  }

  /** The seq of the latest call it was sent. */
  get lastSeq(): number {
    const last = this.calls.at(-1);
    if (!last) throw new Error(`fake worker ${this.id} got no call`);
    return last.seq;
  }

  /** True once it exited, whoever stopped it. */
  get gone(): boolean {
    return this.exited;
  }

  /** Finish booting (say "ready"). */
  boot(): void {
    this.bootNow();
  }

  send(msg: ToWorker): void {
    if (this.exited) return;
    this.sent.push(msg);
    if (msg.type === "call") queueMicrotask(() => this.run(msg.seq, msg.req));
    if (msg.type === "cancel" && this.streams.get(msg.seq) === "hold") {
      this.streams.delete(msg.seq);
      queueMicrotask(() => this.finish(msg.seq, { success: true, result: null }));
    }
    if (msg.type === "reload") queueMicrotask(() => this.emit({ type: "reloaded", modules: msg.files.length, ms: 1 }));
  }

  hold(busy: boolean): void {
    this.held = busy;
  }

  async stop(hard?: boolean): Promise<void> {
    if (this.exited) return;
    this.stopped = hard ? "hard" : "soft";
    this.exit(hard ? null : 0);
  }

  /** Answer call `seq`. */
  finish(seq: number, res: FunctionResponse): void {
    this.emit({ type: "done", seq, res });
  }

  /** An error escapes a callback of call `seq` (null: the worker only guesses `origin`, its latest call). */
  fault(seq: number | null, origin: string | null, kind: "uncaught" | "rejection" = "uncaught"): void {
    this.emit({ type: "fault", kind, seq, origin, name: "Error", message: "boom" });
  }

  /** The worker is gone (crashed, killed, or stopped by the pool). */
  exit(code: number | null): void {
    if (this.exited) return;
    this.exited = true;
    this.failBoot(new Error(`fake worker exited (code ${code})`));
    this.spec.onExit(code, "");
  }

  private emit(msg: FromWorker): void {
    if (!this.exited) this.spec.onMessage(msg);
  }

  private run(seq: number, req: FunctionRequest): void {
    const answer = this.script(req, this);
    if (answer === "hold") return;
    if ("result" in answer) return this.finish(seq, { success: true, result: answer.result });
    if ("error" in answer) return this.finish(seq, { success: false, error: answer.error });
    if ("fault" in answer) return this.fault(seq, req.name ?? null, answer.fault);
    if ("exit" in answer) return this.exit(answer.exit);
    if (answer.then !== "done") this.streams.set(seq, answer.then); // a cancel may come while the chunks go out
    for (const chunk of answer.chunks) this.emit({ type: "chunk", seq, chunk });
    if (answer.then === "done") this.finish(seq, { success: true, result: null, chunks: answer.chunks.length });
  }
}

/** The `start` of a pool under test: makes fake workers and keeps them, in start order. */
export class FakeWorkers {
  readonly started: FakeWorker[] = [];
  /** The script of every call (replace it to change what later calls answer). */
  script: Script;
  /** When set, the next start throws it (as `Bun.spawn` does on E2BIG). */
  failNextStart?: Error;
  private readonly autoBoot: boolean;

  constructor(opts: { script?: Script; autoBoot?: boolean } = {}) {
    this.script = opts.script ?? ((req) => ({ result: req.args?.[0] ?? null }));
    this.autoBoot = opts.autoBoot ?? true;
  }

  /** Pass as `PoolOptions.start`. */
  readonly start = (spec: WorkerSpec): WorkerHandle => {
    if (this.failNextStart) {
      const err = this.failNextStart;
      this.failNextStart = undefined;
      throw err;
    }
    const worker = new FakeWorker(spec, (req, w) => this.script(req, w), this.autoBoot);
    this.started.push(worker);
    return worker;
  };

  /** The workers that have not exited. */
  get alive(): FakeWorker[] {
    return this.started.filter((w) => !w.gone);
  }
}

/** A request for a function `name` of a module that need not exist (the fake worker never imports it). */
export function request(name: string, ...args: unknown[]): FunctionRequest {
  return { module: "/unit/fake-module.ts", name, executionType: "function", args };
}

/** Wait until `check()` holds, polling each millisecond; fails after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(1);
  }
}
