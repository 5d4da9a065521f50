/**
 * What a deploy contains, found by importing the workspace as `flash run` does (Python Flash ≥ v1.11 also imports
 * modules and inspects the decorated objects instead of scanning source text: runpod/flash
 * src/runpod_flash/cli/commands/build_utils/scanner.py). Every `remote()` call reports itself to a recording
 * target while the routers load, so the build sees exactly the functions, configs and routes the app uses.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { CpuLiveLoadBalancer, isResourceConfig, type ResourceConfig } from "../remote/config";
import type { FunctionRequest, FunctionResponse, RemoteFunctionRef } from "../remote/protocol";
import { exportNameWhere, loadedExports } from "../remote/identity";
import { setTarget, type Target } from "../remote/target";
import { discoverExamples, type ExampleInfo, type Scope } from "../workspace/discovery";
import { formatLoadError, importModule, purgeModuleCache } from "../workspace/modules";

/** One remote function as the build found it. */
export interface FoundFunction {
  /** Workspace-relative module path (`01_getting_started/01_hello_world/gpu_worker.ts`). */
  module: string;
  /** Export name (`Class.method` for decorated methods). */
  name: string;
  kind: "function" | "class";
  method?: string;
  path?: string;
  dependencies?: string[];
  systemDependencies?: string[];
}

/** One resource config and the functions that run on it. */
interface FoundResource {
  config: ResourceConfig;
  functions: FoundFunction[];
}

/** Everything a deploy is made of. */
export interface Discovery {
  root: string;
  scope: Scope;
  examples: ExampleInfo[];
  resources: Map<string, FoundResource>;
  /** The load-balanced endpoint that serves the unified app, and where its config came from. */
  mothership: { config: ResourceConfig; source: string };
  /** Router files (absolute), the mothership's entry points. */
  routerFiles: string[];
  /** Every route the mothership serves: `METHOD /prefix/path` → `category/example`. */
  appRoutes: Record<string, string>;
}

/** A target that only records the `remote()` calls made while modules load; calling a function is an error. */
class RecordingTarget implements Target {
  readonly name = "build";
  readonly refs: RemoteFunctionRef[] = [];
  prepare(fn: RemoteFunctionRef): void {
    this.refs.push(fn);
  }
  async call(fn: RemoteFunctionRef, _req: FunctionRequest): Promise<FunctionResponse> {
    return {
      success: false,
      error: { name: "BuildError", message: `${fn.name} was called while flash build imported the workspace` },
    };
  }
  async shutdown(): Promise<void> {}
}

/** The folder a scope names: the example, the category, or the workspace root. */
export function scopeDir(root: string, scope: Scope): string {
  if (scope.category && scope.example) return join(root, scope.category, scope.example);
  if (scope.category) return join(root, scope.category);
  return root;
}

/** The default app name: the workspace folder's name, plus the category and example when the scope narrows it. */
export function defaultAppName(root: string, scope: Scope): string {
  const parts = [root.split(sep).pop() || "flash-app", scope.category, scope.example].filter(Boolean) as string[];
  return parts.join("-").replace(/[^A-Za-z0-9_-]/g, "-");
}

/**
 * Import every router of the scope (fresh: the module cache under `root` is purged first) and collect the
 * remote functions by resource, the routes of load-balanced resources, and the mothership config.
 */
export async function discoverDeploy(root: string, scope: Scope, appName: string): Promise<Discovery> {
  const examples = discoverExamples(root, scope);
  if (examples.length === 0) throw new Error(`no examples to build under ${scopeDir(root, scope)}`);
  const recorder = new RecordingTarget();
  setTarget(recorder);
  purgeModuleCache(root);
  const routerFiles = examples.flatMap((e) => e.routers.map((r) => r.file));
  const failures: string[] = [];
  const appRoutes: Record<string, string> = {};
  for (const e of examples) {
    for (const source of e.routers) {
      const loaded = await importModule(source.file, root);
      if (!loaded.ok) {
        failures.push(formatLoadError({ ...loaded.error, file: relative(root, loaded.error.file) }));
        continue;
      }
      const routes = (loaded.mod[source.exportName] as { routes?: { method: string; path: string }[] } | undefined)
        ?.routes;
      for (const r of routes ?? [])
        appRoutes[`${r.method} ${source.prefix}${r.path === "/" ? "" : r.path}`] = `${e.category}/${e.name}`;
    }
  }
  if (failures.length) throw new Error(`cannot build: modules failed to load:\n  ${failures.join("\n  ")}`);
  const resources = new Map<string, FoundResource>();
  const unexported: string[] = [];
  for (const ref of recorder.refs) {
    // Identity is module + export name (a worker imports the module and takes that export).
    const name = exportNameOfRef(loadedExports(ref.module) ?? {}, ref);
    if (!name) {
      unexported.push(`${relative(root, ref.module)}${ref.line ? `:${ref.line}` : ""} (${ref.name})`);
      continue;
    }
    addRef(resources, root, { ...ref, name });
  }
  if (unexported.length) {
    throw new Error(
      `remote functions must be exported from their module so that a worker can import them: ${unexported.join(", ")}`,
    );
  }
  const mothership = await mothershipConfig(root, scope, appName);
  if (resources.has(mothership.config.name)) {
    throw new Error(`the mothership "${mothership.config.name}" has the name of a remote resource; rename one of them`);
  }
  return { root, scope, examples, resources, mothership, routerFiles, appRoutes };
}

function addRef(resources: Map<string, FoundResource>, root: string, ref: RemoteFunctionRef): void {
  const name = ref.config.name;
  let entry = resources.get(name);
  if (!entry) {
    entry = { config: ref.config, functions: [] };
    resources.set(name, entry);
  } else if (entry.config !== ref.config && JSON.stringify(entry.config) !== JSON.stringify(ref.config)) {
    throw new Error(`two different configs are named "${name}": resource names must be unique in a deploy`);
  }
  const module = relative(root, ref.module).split(sep).join("/");
  if (module.startsWith(".."))
    throw new Error(`remote function ${ref.name} is defined outside the workspace (${ref.module})`);
  const fn: FoundFunction = { module, name: ref.name, kind: ref.executionType };
  if (ref.options.method) fn.method = ref.options.method;
  if (ref.options.path) fn.path = ref.options.path;
  if (ref.options.dependencies?.length) fn.dependencies = [...ref.options.dependencies].sort();
  if (ref.options.systemDependencies?.length) fn.systemDependencies = [...ref.options.systemDependencies].sort();
  if (entry.functions.some((f) => f.module === fn.module && f.name === fn.name)) return;
  if (fn.method && entry.functions.some((f) => f.method === fn.method && f.path === fn.path)) {
    throw new Error(`resource "${name}" has two functions on ${fn.method} ${fn.path}`);
  }
  if (fn.path === "/ping") throw new Error(`resource "${name}": /ping is reserved for the platform's health check`);
  entry.functions.push(fn);
}

/**
 * The mothership's config: a `mothership` export of `mothership.ts` in the scope's folder (an example's own file
 * when one example is deployed), else a CPU load balancer named `<app>-mothership`.
 */
async function mothershipConfig(root: string, scope: Scope, appName: string): Promise<Discovery["mothership"]> {
  const file = join(scopeDir(root, scope), "mothership.ts");
  if (existsSync(file)) {
    const loaded = await importModule(file, root);
    if (!loaded.ok) throw new Error(`cannot load ${relative(root, file)}: ${loaded.error.message}`);
    const config = loaded.mod.mothership;
    if (isResourceConfig(config)) {
      if (!config.isLoadBalancer)
        throw new Error(
          `${relative(root, file)}: the mothership must be a load balancer (CpuLiveLoadBalancer or LiveLoadBalancer)`,
        );
      return { config, source: relative(root, file) };
    }
  }
  return {
    config: new CpuLiveLoadBalancer({ name: `${appName}-mothership`, workersMin: 0, workersMax: 3 }),
    source: "default",
  };
}

/** The export name of the remote wrapper made for `ref`: an export, or `Class.method` for a decorated method. */
function exportNameOfRef(exports: Record<string, unknown>, ref: RemoteFunctionRef): string | undefined {
  return exportNameWhere(
    exports,
    (v) =>
      (typeof v === "function" || (typeof v === "object" && v !== null)) && (v as { remote?: unknown }).remote === ref,
  );
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

/**
 * The workspace-local files `entries` import, transitively (npm packages excluded), entries included: what a
 * resource's code depends on, so its fingerprint changes exactly when that code does.
 */
export function localClosure(root: string, entries: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let imports: { path: string }[] = [];
    try {
      imports = transpiler.scanImports(readFileSync(file, "utf8"));
    } catch {
      continue; // not JS/TS (a JSON import): its bytes are hashed, nothing to follow
    }
    for (const imp of imports) {
      if (!imp.path.startsWith(".")) continue;
      try {
        const resolved = Bun.resolveSync(imp.path, dirname(file));
        if (resolved.startsWith(root + sep) && !resolved.includes(`${sep}node_modules${sep}`)) queue.push(resolved);
      } catch {
        // an import that does not resolve fails at load time, where the error is clearer
      }
    }
  }
  return [...seen].sort();
}

/** sha256 (hex) over the files' workspace-relative paths and bytes. */
export function fingerprint(root: string, files: string[]): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const f of [...files].sort()) {
    hasher.update(relative(root, f).split(sep).join("/"));
    hasher.update("\0");
    hasher.update(readFileSync(f));
    hasher.update("\0");
  }
  return hasher.digest("hex");
}
