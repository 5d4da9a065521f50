/**
 * The wire protocol of remote calls: what a caller sends to run one function (or one method of a remote
 * object) and what comes back. The same shapes travel to local pool workers and, as a job's `input`/`output`,
 * to flash's Runpod worker program, so local and deployed behave alike. `Target` is the contract every place that
 * runs calls (local pools, Runpod, the emulator, a deployed mothership) fulfils.
 */
import type { ResourceConfig } from "./config";
import type { HttpMethod } from "./enums";

/** One call: which module and function to run, and its JSON arguments. */
export interface FunctionRequest {
  /** Absolute path of the module file (the worker imports it). */
  module: string;
  /** The module's export name of the function or class (`Class.method` for a decorated method). */
  name: string;
  executionType: "function" | "class";
  /** JSON values. */
  args: unknown[];
  /** Class mode: which instance (kept by the worker between calls), which method, how to construct it. */
  instanceId?: string;
  methodName?: string;
  constructorArgs?: unknown[];
  createNewInstance?: boolean;
  /** npm specs the function needs (installed by the Runpod worker; the local target uses the workspace). */
  dependencies?: string[];
  /** apt packages the function needs (Runpod worker). */
  systemDependencies?: string[];
  /**
   * The function is a generator (`async function*`): the worker iterates what it returns and sends each yielded
   * value as a chunk as soon as it is produced; the response then carries no result, only the chunk count.
   */
  stream?: boolean;
}

/** How a call is named in messages: `Class.method` for a method of a remote object, else the export name. */
export function callLabel(req: Pick<FunctionRequest, "executionType" | "methodName" | "name">): string {
  return req.executionType === "class" && req.methodName ? `${req.name}.${req.methodName}` : (req.name ?? "");
}

/** An error as it crosses the wire. `status` is kept when the thrown error carried a 4xx/5xx code. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  status?: number;
}

/** The outcome of one call. */
export interface FunctionResponse {
  success: boolean;
  result?: unknown;
  error?: WireError;
  /** What the function printed (console.log/console.error…), in order, one line per entry joined by "\n". */
  stdout?: string;
  instanceId?: string;
  /** A streamed call (`stream: true`): how many chunks the worker sent before this response. */
  chunks?: number;
}

/** Called with each chunk of a streamed call, in order, as the worker produces it. */
export type OnChunk = (chunk: unknown) => void;

/** Options of `remote()`. */
export interface RemoteOptions {
  /** npm specs (`"simple-statistics@7.8.8"`). */
  dependencies?: string[];
  /** apt packages (`"ffmpeg"`). */
  systemDependencies?: string[];
  /** Load-balancer configs: the route's HTTP method. */
  method?: HttpMethod;
  /** Load-balancer configs: the route's path (starts with `/`). */
  path?: string;
}

/** Everything a target needs to know about one remote function or class. */
export interface RemoteFunctionRef {
  config: ResourceConfig;
  /** Absolute path of the module that called `remote()`. */
  module: string;
  /** Line of the `remote()` call (for messages). */
  line?: number;
  /** The export name once settled at the first call (`exported`); until then the function's own name. */
  name: string;
  exported?: boolean;
  executionType: "function" | "class";
  options: RemoteOptions;
}

// ---- messages between a local pool and its workers (threads: postMessage; processes: IPC) ----

/** Pool → worker. */
export type ToWorker =
  | { type: "call"; seq: number; req: FunctionRequest }
  /** The caller of streamed call `seq` stopped reading: end its generator (its `finally` blocks run). */
  | { type: "cancel"; seq: number }
  /** A save changed these files (absolute paths; folders for everything under them): re-import what uses them. */
  | { type: "reload"; files: string[] };

/** Worker → pool. */
export type FromWorker =
  | { type: "ready" }
  | { type: "output"; seq: number; line: string }
  /** One value a streamed call yielded (a JSON value), sent as it is produced. */
  | { type: "chunk"; seq: number; chunk: unknown }
  | { type: "done"; seq: number; res: FunctionResponse }
  /** A reload finished: how many modules were dropped and imported again, and how long it took. */
  | { type: "reloaded"; modules: number; ms: number }
  /**
   * An error escaped a call (a throwing timer, an unhandled rejection): `seq`/`origin` name the call that started
   * the failing callback when known (`seq` null: only `origin`, the latest call, is a guess). The pool retires the
   * worker.
   */
  | {
      type: "fault";
      kind: "uncaught" | "rejection";
      seq: number | null;
      origin: string | null;
      name: string;
      message: string;
    };

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
