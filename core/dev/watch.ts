import { readdirSync, watch, type Dirent, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { buildApp, type UnifiedApp } from "./app";
import { discoverCategories, type Scope } from "../workspace/discovery";
import { runReloadHooks } from "../base/lifecycle";
import { CORE_DIR } from "./loader";
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
}

const EDITOR_TEMP =
  /(?:~|\.swp|\.swx|\.swo|\.tmp|\.bak|\.orig|\.crswap|___jb_(?:tmp|old)___)$|(?:^|[\\/])(?:4913|#[^\\/]*#)$/;

/** Whether a changed path (relative to the workspace) can affect what is served. */
export function isRelevantChange(rel: string): boolean {
  const parts = rel.split(/[\\/]/);
  if (parts.some((p) => p.startsWith(".") || p === "node_modules")) return false;
  return !EDITOR_TEMP.test(rel);
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

  const schedule = (rel: string) => {
    if (closed || !isRelevantChange(rel)) return;
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
      const app = await buildApp({ root, scope, previous: server.current(), changes: { paths: changed } });
      if (closed) return;
      server.swap(app);
      generation++;
      await runReloadHooks();
      const ms = performance.now() - started;
      const served = app.examples.filter((e) => e.routers.length > 0).length;
      log.info(
        `reload #${generation}: ${describeChanges(changed)} → ${served} examples, ${app.routeCount} routes in ${ms.toFixed(1)} ms` +
          (app.errors.length ? `, ${app.errors.length} load error(s)` : ""),
      );
      for (const e of app.errors) log.error(`load error: ${e.file}${e.line ? `:${e.line}` : ""} — ${e.message}`);
      options.onReload?.(app, changed);
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
    const now = new Set([...discoverCategories(root, scope), ...sharedDirs(root)]);
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
    if (!NUMBERED.test(name) && !ROOT_SOURCE.test(name)) return;
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
    .filter((name) => join(root, name) !== CORE_DIR);
}

function describeChanges(changed: string[]): string {
  if (changed.length === 0) return "change";
  const unique = [...new Set(changed)];
  return unique.length <= 3 ? unique.join(", ") : `${unique.slice(0, 3).join(", ")} and ${unique.length - 3} more`;
}
