/**
 * The worker's table of remote functions: inside a worker, `remote()` returns the real function or class and
 * registers it here; the executor imports the function's module and takes the export by name (as Modal does:
 * module + qualified name), then checks it is a registered remote function, so only declared functions run.
 * State lives on `globalThis`, so a second copy of this module (an example importing flash from disk inside the
 * compiled binary) shares it.
 */

/** What a worker can run: a function, or a class for stateful remote objects. */
export interface Registered {
  value: (...args: any[]) => unknown;
  kind: "function" | "class";
  /** `this` for a decorated static method (set when its class is defined). */
  thisArg?: unknown;
}

interface RegistryState {
  workerMode: boolean;
  table: WeakMap<object, Registered>;
}

const KEY = Symbol.for("flash.remote.registry");
const state: RegistryState = ((globalThis as any)[KEY] ??= { workerMode: false, table: new WeakMap() });

/**
 * True inside a worker: a pool worker (`FLASH_WORKER=1`), or a program that entered worker mode (the executor does,
 * before it imports a module, in every flash worker command). Never from Runpod's variables alone
 * (`RUNPOD_ENDPOINT_ID`, `RUNPOD_POD_ID`): a user's `.env` sets them to call an endpoint, and `flash run` must then
 * still send its remote calls to workers, not run them in the server.
 */
export function isWorkerMode(): boolean {
  return state.workerMode || process.env.FLASH_WORKER === "1";
}

/** Switch this thread to worker mode: from now on `remote()` returns plain functions and registers them. */
export function enterWorkerMode(): void {
  state.workerMode = true;
}

/** Record, inside a worker, that `key` (the value the module exports; `entry.value` by default) is remote. */
export function register(entry: Registered, key: object = entry.value): void {
  state.table.set(key, entry);
}

/**
 * The remote function or class a module exports as `name`: an export name, or `Class.method` for a decorated
 * method. Undefined when there is no such export or it is not a remote function (plain exports never run).
 */
export function lookup(exports: Record<string, unknown>, name: string): Registered | undefined {
  const dot = name.indexOf(".");
  if (dot < 0) return registered(exports[name]);
  const owner = exports[name.slice(0, dot)] as Record<string, unknown> | undefined;
  if (typeof owner !== "function") return undefined;
  const method = name.slice(dot + 1);
  const proto = (owner as { prototype?: Record<string, unknown> }).prototype;
  return registered(Object.hasOwn(owner, method) ? owner[method] : proto?.[method]);
}

function registered(value: unknown): Registered | undefined {
  return typeof value === "function" ? state.table.get(value) : undefined;
}

/** The names of the remote functions and classes a module exports (for messages). */
export function remoteExports(exports: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const [key, value] of Object.entries(exports)) {
    if (typeof value !== "function") continue;
    if (registered(value)) names.push(key);
    for (const m of methodsOf(value)) if (lookup(exports, `${key}.${m}`)) names.push(`${key}.${m}`);
  }
  return names;
}

function methodsOf(cls: Function): string[] {
  const statics = Object.getOwnPropertyNames(cls).filter((k) => !["prototype", "name", "length"].includes(k));
  const proto = cls.prototype ? Object.getOwnPropertyNames(cls.prototype).filter((k) => k !== "constructor") : [];
  return [...statics, ...proto];
}
