import { readdirSync, watch, type Dirent, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { buildApp, type UnifiedApp } from "../app/app";
import { discoverCategories, type Scope } from "../workspace/discovery";
import { formatLoadError, purgeModuleCache } from "../workspace/modules";
import { isEngineModule } from "../base/binary";
import { log } from "../base/log";
import { NUMBERED } from "../workspace/names";
import type { FlashServer } from "./server";

/** What the watcher needs: the workspace, the scope being served, and the server whose app it swaps. */
export interface WatchOptions {
  root: string;
  scope: Scope;
  server: FlashServer;
  /** Quiet period after the last change before rebuilding, in ms. */
  debounceMs?: number;
  /** Called after each swap (tests and benchmarks use it). */
  onReload?: (app: UnifiedApp, changed: string[]) => void;
  /**
   * Stop the workers that run old code: those whose modules lie under `dirs` (purged by this reload); a pool none
   * of whose modules was imported again since `since` is no longer used and stops. (`flash run` passes its target.)
   */
  recycle?: (reloaded: { dirs: string[]; since: number; files?: string[] }) => Promise<void> | void;
  /** Read the `.env` files again (a root or example `.env` was saved), before the modules are imported again. */
  reloadEnv?: () => void;
}

/** A `.env` file (the root's or an example folder's): its edit reloads the environment and restarts workers. */
function isDotEnv(rel: string): boolean {
  return /(?:^|[\\/])\.env$/.test(rel);
}

/** Which parts of a workspace changed since the previous build. */
export interface ChangeSet {
  /** Changed paths relative to the workspace root. */
  paths: string[];
}

/**
 * Decide what a change invalidates: the examples whose folder changed, and every example of a changed category
 * folder (`category/*`); `null` when a change lies outside any example (a shared module), which needs a full build.
 * (An example that imports files from another example's folder is reloaded when its own folder changes.)
 */
export function examplesToReload(changes: ChangeSet): Set<string> | null {
  const dirty = new Set<string>();
  for (const rel of changes.paths) {
    const parts = rel.split(/[\\/]/).filter(Boolean);
    if (parts.length === 0 || !NUMBERED.test(parts[0]!)) return null;
    if (parts.length === 1) {
      dirty.add(`${parts[0]}/*`);
      continue;
    }
    if (!NUMBERED.test(parts[1]!)) {
      if (parts.length === 2 && !CODE_FILE.test(parts[1]!)) continue; // a category README: nothing to reload
      return null; // a module directly in a category folder may be shared by its examples
    }
    dirty.add(`${parts[0]}/${parts[1]}`);
  }
  return dirty;
}

/** A reload's plan: which examples to keep as built, and which module folders to purge and re-import. */
export interface ReloadPlan {
  reuse: (id: string) => boolean;
  /** Absolute folders whose modules are purged (the workspace root for a full reload). */
  dirs: string[];
}

/** Turn what changed into a reload plan for the workspace at `root`. */
export function planReload(root: string, changes: ChangeSet): ReloadPlan {
  const dirty = examplesToReload(changes);
  if (!dirty) return { reuse: () => false, dirs: [root] };
  const dirs = [...dirty].map((id) => (id.endsWith("/*") ? join(root, id.slice(0, -2)) : join(root, id)));
  return { reuse: (id) => !dirty.has(id) && !dirty.has(`${id.split("/")[0]}/*`), dirs };
}

const EDITOR_TEMP =
  /(?:~|\.swp|\.swx|\.swo|\.tmp|\.bak|\.orig|\.crswap|___jb_(?:tmp|old)___)$|(?:^|[\\/])(?:4913|#[^\\/]*#|sed[A-Za-z0-9]{6})$/;

/** Files a module can import (source, JSON and the text formats Bun loads); anything else never changes code. */
const CODE_FILE = /\.(?:[cm]?[tj]sx?|json|jsonc|toml|ya?ml)$/i;

/**
 * Whether a changed path (relative to the workspace) can affect what is served: code and manifests, and folders
 * (a created, renamed or deleted example); not data beside the code (`speech.wav`, images, READMEs).
 */
export function isRelevantChange(rel: string): boolean {
  const parts = rel.split(/[\\/]/);
  if (parts.some((p) => p.startsWith(".") || p === "node_modules")) return false;
  if (EDITOR_TEMP.test(rel)) return false;
  const name = parts[parts.length - 1] ?? "";
  return !/\.[A-Za-z0-9]+$/.test(name) || CODE_FILE.test(name);
}

/** Wait after a reload before collecting, so the first requests on the new code are served first. */
const COLLECT_DELAY_MS = 250;
/** At most one full collection per this many ms, however often files are saved. */
const COLLECT_EVERY_MS = 1000;

/**
 * After a reload the previous app and its modules are garbage; JavaScriptCore's heuristics let the heap grow by
 * several MB of them before collecting (+12–16 MB over 200–1,000 reloads under load). One full collection shortly
 * after a reload, at most every second, keeps the server at its warm size (−1.0 MiB after 1,000 reloads under load) without blocking
 * a burst of saves or the request that shows the edit. Returns the scheduler.
 */
function collector(): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = 0;
  return () => {
    if (timer) return;
    const wait = Math.max(COLLECT_DELAY_MS, last + COLLECT_EVERY_MS - performance.now());
    timer = setTimeout(() => {
      timer = undefined;
      last = performance.now();
      Bun.gc(true);
    }, wait);
    timer.unref();
  };
}

/**
 * Watch the workspace and, on change (debounced), purge its modules from the cache, rebuild the app and swap
 * it into the running server. Returns a function that stops watching.
 */
export function watchWorkspace(options: WatchOptions): () => void {
  const { root, scope, server } = options;
  const debounceMs = options.debounceMs ?? 25;
  const categoryWatchers = new Map<string, FSWatcher>();
  const pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let building = false;
  let rebuildAgain = false;
  let closed = false;
  let generation = 0;
  const collectSoon = collector();

  const schedule = (rel: string) => {
    if (closed || !(isRelevantChange(rel) || isDotEnv(rel))) return;
    pending.add(rel);
    clearTimeout(timer);
    timer = setTimeout(() => void rebuild(), debounceMs);
  };

  const rebuild = async () => {
    if (closed) return;
    if (building) {
      rebuildAgain = true;
      return;
    }
    building = true;
    const changed = [...pending];
    pending.clear();
    try {
      syncCategoryWatchers();
      const started = performance.now();
      const envChanged = changed.some(isDotEnv);
      if (envChanged) options.reloadEnv?.();
      const plan = planReload(root, { paths: changed });
      for (const dir of plan.dirs) purgeModuleCache(dir);
      const app = await buildApp({ root, scope, previous: server.current(), reuse: plan.reuse });
      if (closed) return;
      server.swap(app);
      generation++;
      // Only the pools running purged modules get new workers; the others keep theirs (and their loaded models).
      // A new environment needs new workers (it is read when a process starts); code edits keep them warm.
      const files = envChanged ? undefined : changed.map((rel) => join(root, rel));
      await options.recycle?.({ dirs: plan.dirs, since: started, files });
      const ms = performance.now() - started;
      const served = app.examples.filter((e) => e.routers.length > 0).length;
      log.info(
        `reload #${generation}: ${describeChanges(changed)} → ${served} examples, ${app.routeCount} routes in ${ms.toFixed(1)} ms` +
          (app.errors.length ? `, ${app.errors.length} load error(s)` : ""),
      );
      for (const e of app.errors) log.error(`load error: ${formatLoadError(e)}`);
      options.onReload?.(app, changed);
      collectSoon();
    } catch (err) {
      // The old app keeps serving: a failed rebuild must never take the server down.
      log.error(`reload failed, still serving the previous build: ${(err as Error)?.stack ?? err}`);
    } finally {
      building = false;
      if (rebuildAgain && !closed) {
        rebuildAgain = false;
        void rebuild();
      }
    }
  };

  const watchCategory = (category: string) => {
    if (categoryWatchers.has(category)) return;
    try {
      const w = watch(join(root, category), { recursive: true }, (_event, file) => {
        schedule(file ? `${category}/${String(file)}` : category);
      });
      w.on("error", () => {
        // The folder was deleted or renamed: drop its watcher; the root watcher schedules the rebuild.
        w.close();
        categoryWatchers.delete(category);
      });
      categoryWatchers.set(category, w);
    } catch (err) {
      log.debug(`cannot watch ${category}: ${(err as Error)?.message}`);
    }
  };

  function syncCategoryWatchers() {
    const now = new Set(watchedFolders(root, scope));
    for (const [category, w] of categoryWatchers) {
      if (now.has(category)) continue;
      w.close();
      categoryWatchers.delete(category);
    }
    for (const category of now) watchCategory(category);
  }

  // The root is watched shallowly (new or removed categories, root manifests); categories and other source
  // folders recursively. node_modules is never watched: it can hold tens of thousands of folders.
  const rootWatcher = watch(root, { recursive: false }, (_event, file) => {
    const name = file ? String(file) : "";
    if (!NUMBERED.test(name) && !ROOT_SOURCE.test(name) && name !== ".env") return;
    schedule(name);
  });
  syncCategoryWatchers();
  log.info(`watching ${root} for changes`);

  return () => {
    closed = true;
    clearTimeout(timer);
    rootWatcher.close();
    for (const w of categoryWatchers.values()) w.close();
    categoryWatchers.clear();
  };
}

const ROOT_SOURCE = /\.(?:[cm]?[tj]sx?|json)$/;

/**
 * The top-level folders the watcher watches recursively (names relative to `root`): the scope's categories and
 * the folders examples may import shared code from (`lib/`, `shared/`…).
 */
export function watchedFolders(root: string, scope: Scope): string[] {
  return [...new Set([...discoverCategories(root, scope), ...sharedDirs(root)])];
}

/**
 * Top-level folders besides categories that examples may import shared code from (`lib/`, `shared/`…); not
 * dot-folders, node_modules, or flash's own engine (which a reload never re-imports).
 */
function sharedDirs(root: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules" && !NUMBERED.test(e.name))
    .map((e) => e.name)
    .filter((name) => !isEngineModule(join(root, name)));
}

function describeChanges(changed: string[]): string {
  if (changed.length === 0) return "change";
  const unique = [...new Set(changed)];
  return unique.length <= 3 ? unique.join(", ") : `${unique.slice(0, 3).join(", ")} and ${unique.length - 3} more`;
}
