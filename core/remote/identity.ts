/**
 * Who a remote function is, seen from the caller: the module that called `remote()` (read from the stack at the
 * call, the only place JavaScript tells it) and the name that module exports it under, found among the module's
 * exports at the first call (module + export name, as Modal identifies functions by module + qualified name).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isEngineModule } from "../base/binary";

/** Where `remote()` was called. */
export interface CallSite {
  file: string;
  line: number;
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
    // Skip flash's own frames (the engine folder, or the compiled binary's embedded bundle).
    if (isEngineModule(file)) continue;
    const site = { file, line: Number(m[2]) };
    // Source-mapped frames of embedded or bundled code may name files that are not on disk; a worker must be able
    // to import the caller, so prefer the first frame that exists (the bundled case keeps the first frame).
    if (existsSync(file)) return site;
    first ??= site;
  }
  return first;
}

/** The exports of a loaded module (its entry in Bun's module cache), or undefined while it is still loading. */
export function loadedExports(file: string): Record<string, unknown> | undefined {
  return require.cache[file]?.exports as Record<string, unknown> | undefined;
}

/**
 * The name under which `exports` holds `value`: an export name, or `Class.method` when `value` is a method
 * (static or on the prototype) of an exported class.
 */
export function exportNameOf(exports: Record<string, unknown>, value: unknown): string | undefined {
  return exportNameWhere(exports, (v) => v === value);
}

/**
 * The name of the first export that satisfies `is`: an export itself, else a method (static or on the prototype) of
 * an exported class, as `Class.method`.
 */
export function exportNameWhere(exports: Record<string, unknown>, is: (value: unknown) => boolean): string | undefined {
  for (const [key, v] of Object.entries(exports)) if (is(v)) return key;
  for (const [key, v] of Object.entries(exports)) {
    if (typeof v !== "function") continue;
    for (const holder of [v, (v as { prototype?: object }).prototype]) {
      if (!holder) continue;
      for (const m of Object.getOwnPropertyNames(holder)) {
        if (m === "prototype" || m === "constructor") continue;
        if (is(Object.getOwnPropertyDescriptor(holder, m)?.value)) return `${key}.${m}`;
      }
    }
  }
  return undefined;
}
