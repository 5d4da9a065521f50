/**
 * The executor: runs one `FunctionRequest` inside a worker — imports the function's module, finds the
 * function (or class) by its export name, runs it, captures what it prints, and returns the result or the error.
 * The same module runs in local pool workers and in flash's Runpod worker program.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import { toWireError } from "../errors";
import { checkResult } from "../json-values";
import type { FunctionRequest, FunctionResponse } from "../protocol";
import { callLabel } from "../protocol";
import { enterWorkerMode, lookup, type Registered, remoteExports } from "./registry";

/** Callbacks of one execution. */
export interface ExecuteHooks {
  /** Each line the function prints, as it prints it (the response's `stdout` has them all too). */
  onOutput?: (line: string) => void;
  /** A streamed call (`req.stream`): each value the generator yields, checked as a JSON value, as it is yielded. */
  onChunk?: (chunk: unknown) => void;
  /** Aborted when the caller of a streamed call stops reading: the generator is closed at its next step. */
  signal?: AbortSignal;
}

/** Remote objects of this worker, by instance id (state survives between calls to a warm worker). */
const instances = new Map<string, object>();

/** Modules this worker imported, by file (a hot reload forgets the ones it drops; see hot-reload.ts). */
const loaded = new Map<string, Record<string, unknown>>();

/** Import a module in worker mode (so its `remote()` calls register the real functions); returns its exports. */
export async function loadModule(file: string): Promise<Record<string, unknown>> {
  const known = loaded.get(file);
  if (known) return known;
  enterWorkerMode();
  const exports = (await import(file)) as Record<string, unknown>;
  loaded.set(file, exports);
  return exports;
}

/** Forget modules a hot reload dropped from the cache; returns those this worker had imported (to import again). */
export function forgetImported(files: string[]): string[] {
  const forgotten = files.filter((file) => loaded.has(file));
  for (const file of forgotten) loaded.delete(file);
  return forgotten;
}

/** Run one request; never throws: every failure is a `FunctionResponse` with `success: false`. */
export function execute(req: FunctionRequest, hooks: ExecuteHooks = {}): Promise<FunctionResponse> {
  const lines: string[] = [];
  const capture: Capture = {
    sink: (line) => {
      lines.push(line);
      hooks.onOutput?.(line);
    },
    partial: "",
    open: true,
  };
  installCapture();
  // The call's output goes to its own sink, also while other calls run beside it on this worker (maxConcurrency).
  return capturing.run(capture, () => run(req, hooks, lines, () => closeCapture(capture)));
}

async function run(
  req: FunctionRequest,
  hooks: ExecuteHooks,
  lines: string[],
  restore: () => void,
): Promise<FunctionResponse> {
  const label = callLabel(req);
  try {
    const target = await find(req);
    const result =
      req.executionType === "class"
        ? await runMethod(req, target)
        : await target.value.apply(target.thisArg, req.args ?? []);
    const res: FunctionResponse = req.stream
      ? { success: true, result: null, chunks: await drain(result, label, hooks) }
      : { success: true, result: checkResult(notIterable(result, label), label) };
    if (req.instanceId) res.instanceId = req.instanceId;
    return withOutput(res, lines, restore);
  } catch (err) {
    return withOutput({ success: false, error: toWireError(err) }, lines, restore);
  }
}

/**
 * Iterate what a generator function returned, handing each value to `onChunk` as soon as it is yielded (no
 * buffering: the caller sees a chunk while the generator computes the next). Returns how many chunks there were.
 * An abort (the caller stopped reading) or a chunk that is not a JSON value closes the generator with `return()`,
 * so its `finally` blocks run; an error the generator throws ends the stream with that error.
 */
async function drain(value: unknown, label: string, hooks: ExecuteHooks): Promise<number> {
  const iterator = iteratorOf(value, label);
  let count = 0;
  let closed = false;
  try {
    for (;;) {
      if (hooks.signal?.aborted) throw stopped(label, count);
      const step = await iterator.next();
      if (step.done) {
        closed = true;
        return count;
      }
      if (hooks.signal?.aborted) throw stopped(label, count);
      const chunk = checkResult(step.value, `${label} (chunk ${count + 1})`);
      count++;
      hooks.onChunk?.(chunk);
    }
  } finally {
    // return() on a generator that already threw does nothing; on a suspended one it runs its finally blocks.
    if (!closed) await iterator.return?.().catch(() => undefined);
  }
}

/** The caller stopped reading a streamed call: the error its response carries (nobody reads it but the log). */
function stopped(label: string, count: number): Error {
  const err = new Error(`${label}: the caller stopped reading after ${count} chunk(s); the generator was closed`);
  err.name = "AbortError";
  return err;
}

type AnyIterator = { next(): unknown; return?(): unknown };

/** The iterator of a generator (async or not), with promise-returning steps. */
function iteratorOf(
  value: unknown,
  label: string,
): { next(): Promise<IteratorResult<unknown>>; return?(): Promise<unknown> } {
  const v = value as Record<symbol, (() => AnyIterator) | undefined> | null;
  const make = v?.[Symbol.asyncIterator] ?? v?.[Symbol.iterator];
  if (typeof make !== "function" || typeof value === "string" || Array.isArray(value)) {
    throw new TypeError(
      `${label}: a streamed call must return a generator (declare it \`async function*\`); it returned ${describe(value)}`,
    );
  }
  const it = make.call(v) as AnyIterator;
  return {
    next: () => Promise.resolve(it.next()) as Promise<IteratorResult<unknown>>,
    return: it.return ? () => Promise.resolve(it.return!()) : undefined,
  };
}

/** A plain call's result must not be a generator: its values would be lost (say how to stream instead). */
function notIterable(result: unknown, label: string): unknown {
  const r = result as Record<symbol, unknown> | null;
  if (r && typeof r === "object" && !Array.isArray(r) && typeof r[Symbol.asyncIterator] === "function") {
    throw new TypeError(
      `${label}: it returned an async iterable, which cannot cross the wire as a result; ` +
        "declare the function `async function*` (yield each value) to stream its values to the caller",
    );
  }
  return result;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `a ${(value as object).constructor?.name ?? "object"}` : `a ${typeof value}`;
}

function withOutput(res: FunctionResponse, lines: string[], restore: () => void): FunctionResponse {
  restore();
  if (lines.length) res.stdout = lines.join("\n");
  return res;
}

async function find(req: FunctionRequest): Promise<Registered> {
  if (!req || typeof req.module !== "string" || typeof req.name !== "string") {
    throw new TypeError("invalid request: module and name are required");
  }
  let exports: Record<string, unknown>;
  try {
    exports = await loadModule(req.module);
  } catch (err) {
    const e = err as Error;
    const wrapped = new Error(`cannot import ${req.module}: ${e?.message ?? err}`);
    wrapped.name = "ImportError";
    if (e?.stack) wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${e.stack.split("\n").slice(1).join("\n")}`;
    throw wrapped;
  }
  const found = lookup(exports, req.name);
  if (!found) {
    const known = remoteExports(exports);
    const err = new Error(
      `${req.module} exports no remote function "${req.name}"` +
        ` (its remote exports: ${known.length ? known.join(", ") : "none"}; was the file changed without a reload?)`,
    );
    err.name = "LookupError";
    throw err;
  }
  const wanted = req.executionType === "class" ? "class" : "function";
  if (found.kind !== wanted) throw new TypeError(`${req.name} is a ${found.kind}, but the request runs a ${wanted}`);
  return found;
}

async function runMethod(req: FunctionRequest, target: Registered): Promise<unknown> {
  const name = req.name;
  const id = req.instanceId;
  const method = req.methodName;
  if (!id || !method) throw new TypeError(`class call to ${name} needs instanceId and methodName`);
  let instance = instances.get(id);
  if (!instance) {
    if (req.createNewInstance === false) throw new Error(`${name} instance ${id} does not exist on this worker`);
    instance = new (target.value as unknown as new (...a: unknown[]) => object)(...(req.constructorArgs ?? []));
    instances.set(id, instance);
  }
  const fn = (instance as Record<string, unknown>)[method];
  if (typeof fn !== "function") throw new TypeError(`${name} has no method "${method}"`);
  return await (fn as (...a: unknown[]) => unknown).apply(instance, req.args ?? []);
}

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/** Where one call's output goes: line by line to `sink`, until the call ends (`open` false). */
interface Capture {
  sink: (line: string) => void;
  partial: string;
  open: boolean;
}

/** The call whose code is running (async context): its output is its own, whatever else runs on the worker. */
const capturing = new AsyncLocalStorage<Capture>();
let installed = false;

/**
 * Route console output and stdout/stderr writes made inside a call to that call's capture, line by line; anything
 * else (no call, or a timer left over from a finished call) goes where it always went. Installed once per worker.
 */
function installCapture(): void {
  if (installed) return;
  installed = true;
  const current = () => {
    const c = capturing.getStore();
    return c?.open ? c : undefined;
  };
  CONSOLE_METHODS.forEach((m) => {
    const original = console[m];
    console[m] = ((...args: unknown[]) => {
      const c = current();
      if (!c) return (original as (...a: unknown[]) => void).apply(console, args);
      for (const line of format(...args).split("\n")) c.sink(line);
    }) as never;
  });
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const c = current();
      if (!c) return original(chunk, ...rest);
      c.partial += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk as Uint8Array);
      const parts = c.partial.split("\n");
      c.partial = parts.pop() ?? "";
      for (const line of parts) c.sink(line);
      return true;
    }) as typeof stream.write;
  }
}

/** The call ended: flush its last partial line; later output from its leftovers is no longer its. */
function closeCapture(c: Capture): void {
  if (c.partial) c.sink(c.partial);
  c.partial = "";
  c.open = false;
}
