/**
 * Loading a workspace's modules, for `flash run` (and its reloads) and `flash build`: import one and describe its
 * failure, and drop the workspace's modules from the cache so the next import reads them again. flash's own engine
 * (`ENGINE_DIR`) is never dropped: its pools and registries live in its modules and must stay one instance.
 */
import { dirname, join, sep } from "node:path";
import { ENGINE_DIR, isEmbeddedPath } from "../base/binary";

/** Where and why a module could not be loaded, as shown in the log, on `/health` and on the home page. */
export interface LoadError {
  /** The example it belongs to (`category/example`), when known. */
  example?: string;
  file: string;
  line: number | null;
  column: number | null;
  message: string;
}

/** One line per load error: where (file:line) and why. */
export function formatLoadError(e: LoadError): string {
  return `${e.file}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ""}` : ""} — ${e.message}`;
}

/** Turn whatever an `import()` threw into a `LoadError`, pointing at the file and line that caused it. */
function describeLoadError(err: unknown, fallbackFile: string, workspaceRoot?: string): LoadError {
  const e = err as Record<string, any> | null;
  // Several parse errors come as one AggregateError ("4 errors building …"): report the first, with its position.
  if (Array.isArray(e?.errors) && e.errors.length > 0 && !e?.position) {
    const first = describeLoadError(e.errors[0], fallbackFile, workspaceRoot);
    const more = e.errors.length - 1;
    return more > 0
      ? { ...first, message: `${first.message} (and ${more} more error${more === 1 ? "" : "s"})` }
      : first;
  }
  const message = String(e?.message ?? err);
  // Bun's BuildMessage (syntax errors) carries a 1-based position.
  if (e?.position && typeof e.position.line === "number") {
    return {
      file: e.position.file ?? fallbackFile,
      line: e.position.line,
      column: (e.position.column ?? 0) + 1,
      message,
    };
  }
  // ResolveMessage: a missing import; the referrer is the file that asked for it.
  if (e?.name === "ResolveMessage") {
    return { file: e.referrer ?? fallbackFile, line: null, column: null, message };
  }
  const frame = firstWorkspaceFrame(String(e?.stack ?? ""), workspaceRoot);
  if (frame) return { ...frame, message };
  // Only a position in the user's files: in the binary, a frame of flash's own (embedded) engine means nothing to them.
  if (typeof e?.sourceURL === "string" && typeof e?.line === "number" && inWorkspace(e.sourceURL, workspaceRoot)) {
    return { file: e.sourceURL, line: e.line, column: e.column ?? null, message };
  }
  return { file: fallbackFile, line: null, column: null, message };
}

function inWorkspace(file: string, root?: string): boolean {
  return file.startsWith("/") && !isEmbeddedPath(file) && (!root || file.startsWith(root));
}

function firstWorkspaceFrame(stack: string, root?: string): { file: string; line: number; column: number } | null {
  for (const m of stack.matchAll(/(\/[^\s():]+\.[cm]?[tj]sx?):(\d+):(\d+)/g)) {
    const file = m[1]!;
    if (file.includes(`${sep}node_modules${sep}`) || isEmbeddedPath(file)) continue;
    if (root && !file.startsWith(root)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return null;
}

/**
 * Example folders holding modules that failed to evaluate. Bun keeps such modules (and every module of the
 * failed import graph) in its loader registry without listing them in `require.cache`, so a purge by enumeration
 * misses them; deleting each file's key explicitly evicts them.
 */
const failedDirs = new Set<string>();
const SOURCE_GLOB = new Bun.Glob("**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs,json}");

/** The example folder (`root/NN_cat/NN_ex`) a file belongs to, or its own folder outside a workspace. */
function exampleDirOf(file: string, root?: string): string {
  if (root && file.startsWith(root + sep)) {
    const parts = file.slice(root.length + 1).split(sep);
    if (parts.length > 2) return join(root, parts[0]!, parts[1]!);
  }
  return dirname(file);
}

/** Import a module by absolute path, returning its namespace or the error it raised. */
export async function importModule(
  file: string,
  root?: string,
): Promise<{ ok: true; mod: Record<string, unknown> } | { ok: false; error: LoadError }> {
  try {
    return { ok: true, mod: (await import(file)) as Record<string, unknown> };
  } catch (err) {
    const error = describeLoadError(err, file, root);
    failedDirs.add(exampleDirOf(file, root));
    return { ok: false, error };
  }
}

/**
 * Drop every module under `root` (outside node_modules) from the module cache, so the next `import()` reads
 * them again together with their transitive imports. Returns how many entries were purged.
 */
export function purgeModuleCache(root: string, keep: string[] = [ENGINE_DIR]): number {
  const prefix = root.endsWith(sep) ? root : root + sep;
  const kept = keep.map((k) => (k.endsWith(sep) ? k : k + sep));
  let purged = 0;
  for (const key of Object.keys(require.cache)) {
    if (!key.startsWith(prefix) || key.includes(`${sep}node_modules${sep}`)) continue;
    // The running engine (ENGINE_DIR by default) must stay one instance: its pools and registries live in its modules.
    if (kept.some((k) => key.startsWith(k))) continue;
    delete require.cache[key];
    purged++;
  }
  for (const dir of failedDirs) {
    if (!(dir + sep).startsWith(prefix)) continue;
    failedDirs.delete(dir);
    try {
      for (const rel of SOURCE_GLOB.scanSync({ cwd: dir, dot: false })) {
        if (!rel.includes("node_modules")) delete require.cache[join(dir, rel)];
      }
    } catch {
      // the folder is gone (deleted or renamed): nothing of it can be imported again anyway
    }
  }
  return purged;
}
