import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { closest } from "../base/did-you-mean";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { displayTitle, EXAMPLE_GLOB, exampleTag, NUMBERED, routerPrefix } from "./names";

/** Where a router comes from: a `{type}_worker.ts` file, a `workers/{type}/index.ts` folder, or `main.ts` (`api_router`). */
export interface RouterSource {
  /** Worker type (`gpu`, `cpu`, …), or `api` for an example-level router. */
  type: string;
  /** Absolute path of the module that exports the router. */
  file: string;
  /** Name of the export that holds the router. */
  exportName: string;
  /** Which discovery pattern found it. */
  pattern: "single-file" | "directory" | "api";
  /** URL prefix the router is mounted at. */
  prefix: string;
}

/** One discovered example folder and its router sources. */
export interface ExampleInfo {
  category: string;
  name: string;
  /** Absolute path of the example folder. */
  dir: string;
  categoryTitle: string;
  title: string;
  /** OpenAPI tag: "{Category Title} > {Example Title}". */
  tag: string;
  routers: RouterSource[];
}

/** What part of a workspace a command works on: all of it, one category, or one example. */
export interface Scope {
  category?: string;
  example?: string;
}

/** A workspace root and the scope implied by the directory a command was started in. */
export interface WorkspaceLocation {
  root: string;
  scope: Scope;
}

const EXAMPLES = new Bun.Glob(EXAMPLE_GLOB);
const WORKER_FILE_GLOB = new Bun.Glob("*_worker.ts");
const WORKER_DIR_GLOB = new Bun.Glob("workers/*/index.ts");

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a dangling symlink or a race with a delete: not a directory we can serve
  }
}

function hasWorkspacesManifest(dir: string): boolean {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return false;
  try {
    return Array.isArray(JSON.parse(readFileSync(manifest, "utf8")).workspaces);
  } catch {
    return false; // an unreadable manifest is not a workspace root
  }
}

/** The nearest folder at or above `dir` whose package.json declares workspaces, if any. */
export function findWorkspaceRoot(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (hasWorkspacesManifest(d)) return d;
    if (dirname(d) === d) return undefined;
  }
}

/**
 * Find the workspace that `cwd` belongs to and the scope it implies: run from the root or above a category
 * everything is served; from a category, that category; from inside an example, that example alone.
 */
export function locateWorkspace(cwd: string): WorkspaceLocation {
  const start = resolve(cwd);
  let root = findWorkspaceRoot(start);
  if (!root) {
    // No workspace manifest: infer the root from numbered folder names around cwd.
    const name = basename(start);
    const parent = basename(dirname(start));
    if (NUMBERED.test(name) && NUMBERED.test(parent)) root = dirname(dirname(start));
    else if (NUMBERED.test(name) && !hasNumberedChildren(dirname(start))) root = start;
    else if (NUMBERED.test(name)) root = dirname(start);
    else root = start;
  }
  const parts = relative(root, start).split(sep).filter(Boolean);
  const scope: Scope = {};
  if (parts[0] && NUMBERED.test(parts[0])) scope.category = parts[0];
  if (scope.category && parts[1] && NUMBERED.test(parts[1])) scope.example = parts[1];
  return { root, scope };
}

function hasNumberedChildren(dir: string): boolean {
  for (const _ of EXAMPLES.scanSync({ cwd: dir, onlyFiles: false })) return true;
  return false;
}

function sortedScan(glob: Bun.Glob, cwd: string, onlyFiles: boolean): string[] {
  const found = [...glob.scanSync({ cwd, onlyFiles, followSymlinks: true, dot: false })];
  return found.filter((p) => !p.split(/[\\/]/).includes("node_modules")).sort();
}

/** The router sources of one example folder, in mount order (single-file, then directory, then `main.ts`). */
function findRouterSources(category: string, example: string, dir: string): RouterSource[] {
  const sources: RouterSource[] = [];
  for (const rel of sortedScan(WORKER_FILE_GLOB, dir, true)) {
    const type = basename(rel, ".ts").replace(/_worker$/, "");
    if (!type) continue;
    sources.push({
      type,
      file: join(dir, rel),
      exportName: `${type}_router`,
      pattern: "single-file",
      prefix: routerPrefix(category, example, type),
    });
  }
  for (const rel of sortedScan(WORKER_DIR_GLOB, dir, true)) {
    const type = rel.split(/[\\/]/)[1]!;
    if (type.startsWith("_") || type.startsWith(".")) continue;
    sources.push({
      type,
      file: join(dir, rel),
      exportName: `${type}_router`,
      pattern: "directory",
      prefix: routerPrefix(category, example, type),
    });
  }
  const main = join(dir, "main.ts");
  if (existsSync(main)) {
    sources.push({
      type: "api",
      file: main,
      exportName: "api_router",
      pattern: "api",
      prefix: routerPrefix(category, example, "api"),
    });
  }
  return sources;
}

/** An example folder found by the top-level scan, before its routers are looked for. */
export interface ExampleFolder {
  category: string;
  name: string;
  dir: string;
}

/** The example folders under `root` (sorted by path), narrowed to `scope`; cheap: one glob, no per-example scan. */
export function listExamples(root: string, scope: Scope = {}): ExampleFolder[] {
  const folders: ExampleFolder[] = [];
  for (const rel of sortedScan(EXAMPLES, root, false)) {
    const [category, name] = rel.split(/[\\/]/) as [string, string];
    if (scope.category && scope.category !== category) continue;
    if (scope.example && scope.example !== name) continue;
    const dir = join(root, category, name);
    if (isDir(dir)) folders.push({ category, name, dir });
  }
  return folders;
}

/** Titles, tag and router sources of one example folder. */
export function describeExample(root: string, category: string, name: string): ExampleInfo {
  const dir = join(root, category, name);
  return {
    category,
    name,
    dir,
    categoryTitle: displayTitle(category),
    title: displayTitle(name),
    tag: exampleTag(category, name),
    routers: findRouterSources(category, name, dir),
  };
}

/** Every example under `root` (sorted by path), narrowed to `scope`, with its router sources. */
export function discoverExamples(root: string, scope: Scope = {}): ExampleInfo[] {
  return listExamples(root, scope).map((f) => describeExample(root, f.category, f.name));
}

/** The category folders under `root` (sorted), including empty ones, narrowed to `scope`. */
export function discoverCategories(root: string, scope: Scope = {}): string[] {
  const found = [...new Bun.Glob("[0-9][0-9]_*").scanSync({ cwd: root, onlyFiles: false, followSymlinks: true })];
  return found.filter((c) => isDir(join(root, c)) && (!scope.category || scope.category === c)).sort();
}

/**
 * The one-line refusal for a folder argument that does not exist (or is a file), naming the nearest existing
 * sibling when the last part looks like a typo (`01_getting_stared` → `01_getting_started`); undefined when `dir`
 * is a folder.
 */
export function missingFolder(dir: string): string | undefined {
  const path = resolve(dir);
  if (existsSync(path)) return statSync(path).isDirectory() ? undefined : `${dir} is a file, not a folder`;
  const parent = dirname(path);
  const siblings = existsSync(parent)
    ? readdirSync(parent, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    : [];
  const guess = closest(basename(path), siblings);
  const hint = guess ? `did you mean ${join(dirname(dir), guess)}?` : "pass a workspace, category or example folder";
  return `${dir}: no such folder (${hint})`;
}
