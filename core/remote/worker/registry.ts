/**
 * Identity of remote functions: which module called `remote()` (from the stack at the call) and a stable id
 * (the order of `remote()` calls in that module), plus, inside a worker, the table from (module, id) to the
 * real function or class that the executor looks up. State lives on `globalThis`, so a second copy of this
 * module (an example importing flash from disk inside the compiled binary) shares it.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** What a worker can run: a function, or a class for stateful remote objects. */
export interface Registered {
  value: (...args: any[]) => unknown;
  name: string;
  kind: "function" | "class";
  /** `this` for a decorated static method (set when its class is defined). */
  thisArg?: unknown;
}

interface FileState {
  count: number;
  /** Line of the first `remote()` call of this evaluation. */
  firstLine: number;
  /** The module-cache entry of the evaluation the ids were counted in (undefined until known, null if never known). */
  evaluated: unknown;
  lines?: string[];
}

interface RegistryState {
  workerMode: boolean;
  files: Map<string, FileState>;
  table: Map<string, Registered>;
  /** Batches collecting registrations while a module is imported (see `importRecorded`). */
  loading: Set<{ file: string; id: string; entry: Registered }[]>;
  /** What registered while each module was imported. */
  loadedBy: Map<string, { file: string; id: string; entry: Registered }[]>;
}

const KEY = Symbol.for("flash.remote.registry");
const state: RegistryState = ((globalThis as any)[KEY] ??= {
  workerMode: false,
  files: new Map(),
  table: new Map(),
  loading: new Set(),
  loadedBy: new Map(),
});

const THIS_DIR = import.meta.dir;

/** True inside a worker: a pool worker (`FLASH_WORKER=1`) or a Runpod worker (`RUNPOD_ENDPOINT_ID`/`RUNPOD_POD_ID`). */
export function isWorkerMode(): boolean {
  const env = process.env;
  return state.workerMode || env.FLASH_WORKER === "1" || !!env.RUNPOD_ENDPOINT_ID || !!env.RUNPOD_POD_ID;
}

/** Switch this thread to worker mode: from now on `remote()` returns plain functions and registers them. */
export function enterWorkerMode(): void {
  state.workerMode = true;
}

/** Where `remote()` was called: the first stack frame outside flash's remote runtime. */
export interface CallSite {
  file: string;
  line: number;
  column: number;
}

/** The call site of the caller of `remote()`, or null when the stack names no file (eval'd code). */
export function callerSite(): CallSite | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  let first: CallSite | null = null;
  for (const line of stack.split("\n")) {
    const m = /\(?((?:file:\/\/)?\/[^\s()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith("file://")) file = fileURLToPath(file);
    // Skip flash's own frames: this folder, a second copy of it, and the compiled binary's embedded bundle.
    if (file.startsWith(THIS_DIR + "/") || file.includes("/core/remote/") || file.startsWith("/$bunfs/")) continue;
    const site = { file, line: Number(m[2]), column: Number(m[3]) };
    // Source-mapped frames of embedded or bundled code may name files that are not on disk; a worker must be able
    // to import the caller, so prefer the first frame that exists (the bundled case keeps the first frame).
    if (existsSync(file)) return site;
    first ??= site;
  }
  return first;
}

/**
 * True when `remote()` is called after its module finished loading (inside a function, a route…): a worker
 * importing the module would not make that call, so it could not find the function.
 */
export function isLateCall(file: string): boolean {
  const entry = require.cache[file];
  if (!entry) return false;
  const s = state.files.get(file);
  return !s || s.evaluated === entry;
}

/**
 * The next stable id for a `remote()` call in `file`: "0", "1", … in call order. A module evaluated again
 * (hot reload purged it from the module cache) starts again at "0", as a fresh worker does.
 */
export function nextId(site: CallSite): string {
  const file = site.file;
  let s = state.files.get(file);
  if (s && restarted(s, file, site.line)) s = undefined;
  if (!s) {
    s = { count: 0, evaluated: undefined, firstLine: site.line };
    state.files.set(file, s);
    watchEvaluation(file, s);
  }
  return String(s.count++);
}

/** True when the module of `s` is being evaluated again (so its ids start over). */
function restarted(s: FileState, file: string, line: number): boolean {
  // Purged from the module cache and re-evaluated: the finished evaluation's cache entry is gone or replaced.
  if (s.evaluated) return require.cache[file] !== s.evaluated;
  // An evaluation that never finished (it threw) left no entry; back at (or above) its first call means a new run.
  return s.evaluated === null && line <= s.firstLine;
}

function watchEvaluation(file: string, s: FileState, attempt = 0): void {
  // The module is in the cache only once its evaluation finished; remember that entry to notice a re-evaluation.
  const timer = setTimeout(
    () => {
      const entry = require.cache[file];
      if (entry) s.evaluated = entry;
      else if (attempt < 8) watchEvaluation(file, s, attempt + 1);
      else s.evaluated = null;
    },
    attempt === 0 ? 0 : 25 * 2 ** attempt,
  );
  (timer as { unref?: () => void }).unref?.();
}

/** The name a call site gives its remote function: `export const NAME = remote(` on that line, when found. */
export function nameAt(site: CallSite): string | undefined {
  const s = state.files.get(site.file);
  let lines = s?.lines;
  if (!lines) {
    try {
      lines = readFileSync(site.file, "utf8").split("\n");
    } catch {
      return undefined; // a file we cannot read (embedded, deleted) simply has no name
    }
    if (s) s.lines = lines;
  }
  // The call may start on the line of its declaration or on the next one (`export const x =\n  remote(`).
  const text = `${lines[site.line - 2] ?? ""}\n${lines[site.line - 1] ?? ""}`;
  const m = /(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^\n]*?)?=\s*(?:await\s+)?remote\s*[(<][^\n]*$/.exec(text);
  return m?.[1];
}

/** Record, inside a worker, the real function or class for (module, id). */
export function register(file: string, id: string, entry: Registered): void {
  state.table.set(`${file}#${id}`, entry);
  for (const batch of state.loading) batch.push({ file, id, entry });
}

interface Added {
  file: string;
  id: string;
  entry: Registered;
}

/**
 * Import `file`, remembering what registered while it loaded. A bundle (what the Runpod target ships) registers
 * its functions under their source files, not under the bundle's path; `lookup` uses this record to find them.
 */
export async function importRecorded(file: string): Promise<void> {
  const batch: Added[] = [];
  state.loading.add(batch);
  try {
    await import(file);
  } finally {
    state.loading.delete(batch);
  }
  state.loadedBy.set(file, batch);
}

/**
 * The real function or class for (module, id). Falls back to what registered while `file` was imported (one
 * source module: by id; several: by name), then to a unique match by name in that module.
 */
export function lookup(file: string, id: string, name?: string): Registered | undefined {
  const exact = state.table.get(`${file}#${id}`);
  if (exact && (!name || exact.name === name)) return exact;
  if (exact) {
    // Ids shifted (the caller counted a failed evaluation of the module): trust a unique name over the id.
    const byName = [...state.table.entries()].filter(([k, v]) => k.startsWith(`${file}#`) && v.name === name);
    return byName.length === 1 ? byName[0]![1] : exact;
  }
  const added = (state.loadedBy.get(file) ?? []).filter((a) => a.file !== file);
  if (added.length) {
    const sources = new Set(added.map((a) => a.file));
    const hit = sources.size === 1 ? added.find((a) => a.id === id) : undefined;
    if (hit && (!name || hit.entry.name === name)) return hit.entry;
    const named = name ? added.filter((a) => a.entry.name === name) : [];
    if (named.length === 1) return named[0]!.entry;
  }
  if (!name) return undefined;
  const byName = [...state.table.entries()].filter(([k, v]) => k.startsWith(`${file}#`) && v.name === name);
  return byName.length === 1 ? byName[0]![1] : undefined;
}

/** How many functions and classes are registered in this worker (for messages). */
export function registeredIn(file: string): string[] {
  return [...state.table.entries()]
    .filter(([k]) => k.startsWith(`${file}#`))
    .map(([k, v]) => `${k.slice(file.length + 1)}=${v.name}`);
}
