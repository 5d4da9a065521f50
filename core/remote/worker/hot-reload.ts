/**
 * Hot reload inside a worker: after a save, drop from this worker's module cache only the files that changed and
 * the modules that import them (directly or not), then import the remote functions' modules again. Every other
 * module keeps its instance and its state: a model loaded by an unchanged module stays loaded, so editing a route or
 * its post-processing answers with the new code at once, while editing the module that loads the model loads it again.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, sep } from "node:path";
import { isEngineModule } from "../../base/binary";

/** What a reload did: the modules it dropped. */
export interface ReloadResult {
  purged: string[];
}

const SOURCE = /\.(?:[cm]?[tj]sx?)$/;

/** The modules of the user's code in this worker's cache (not packages, not flash's own engine). */
function userModules(): string[] {
  return Object.keys(require.cache).filter(
    (key) =>
      key.startsWith(sep) && SOURCE.test(key) && !key.includes(`${sep}node_modules${sep}`) && !isEngineModule(key),
  );
}

type Loader = "ts" | "tsx" | "js" | "jsx";

function loaderFor(file: string): Loader {
  if (/\.[cm]?tsx$/.test(file)) return "tsx";
  if (/\.[cm]?ts$/.test(file)) return "ts";
  return /\.[cm]?jsx$/.test(file) ? "jsx" : "js";
}

/** One import scanner per loader, made on first use (not one per file per reload). */
const scanners = new Map<Loader, Bun.Transpiler>();
function scannerFor(file: string): Bun.Transpiler {
  const loader = loaderFor(file);
  let scanner = scanners.get(loader);
  if (!scanner) scanners.set(loader, (scanner = new Bun.Transpiler({ loader })));
  return scanner;
}

/** For each cached module, the cached modules that import it (from their source, read again from disk). */
function importersOf(modules: string[]): Map<string, Set<string>> {
  const cached = new Set(modules);
  const importers = new Map<string, Set<string>>();
  for (const file of modules) {
    let imports: { path: string }[];
    try {
      imports = scannerFor(file).scanImports(readFileSync(file, "utf8"));
    } catch {
      continue; // deleted, or a syntax error: it is purged if it changed; its own imports no longer matter
    }
    for (const { path } of imports) {
      let target: string;
      try {
        target = Bun.resolveSync(path, dirname(file));
      } catch {
        continue;
      }
      if (!cached.has(target)) continue;
      let set = importers.get(target);
      if (!set) importers.set(target, (set = new Set()));
      set.add(file);
    }
  }
  return importers;
}

/**
 * Drop `changed` (absolute paths: files, or folders whose files all changed) and every cached module that imports
 * one of them, from this worker's module cache. Returns the dropped modules; flash's own engine (`ENGINE_DIR`) is
 * never touched.
 */
export function purgeChanged(changed: string[]): ReloadResult {
  const modules = userModules();
  const hit = (file: string) => changed.some((c) => file === c || file.startsWith(c.endsWith(sep) ? c : c + sep));
  const purge = new Set(modules.filter(hit));
  // A changed file that was never cached (a new helper) can still be imported by a cached module from now on.
  for (const c of changed) if (SOURCE.test(c) && existsSync(c)) purge.add(c);
  const importers = importersOf(modules);
  const todo = [...purge];
  while (todo.length > 0) {
    for (const importer of importers.get(todo.pop()!) ?? []) {
      if (purge.has(importer)) continue;
      purge.add(importer);
      todo.push(importer);
    }
  }
  const purged = [...purge].filter((file) => file in require.cache);
  for (const file of purged) delete require.cache[file];
  return { purged };
}
