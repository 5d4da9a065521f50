/**
 * `flash build`: the workspace (or a category, or one example) as one deployable artifact: `.flash/flash_manifest.json`
 * and a deterministic `.flash/artifact.tar.gz` holding the manifest, the sources and the npm packages they use
 * (the Python build's layout: project files plus dependencies at the archive root and `flash_manifest.json`;
 * runpod/flash src/runpod_flash/cli/commands/build.py). Workers unpack it and import functions from it.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { formatBytes } from "../base/bytes";
import { renderTable } from "./table";
import { dirname, join, relative } from "node:path";
import { writeFileAtomic } from "../base/fs";
import type { Scope } from "../workspace/discovery";
import { logger } from "../base/log";
import { collectFiles, selectSources } from "./artifact";
import { defaultAppName, discoverDeploy, localClosure, scopeDir } from "./discover";
import type { EnvVarInput } from "../runpod/platform";
import {
  buildManifest,
  digestEnv,
  type Manifest,
  MOTHERSHIP_RUNTIME_PATH,
  RUNTIME_PATH,
  stableStringify,
} from "./manifest";
import type { TarEntry } from "./tar";
import { tarGz } from "./tar";

const blog = logger("build");

/** Largest artifact accepted (Runpod Flash's limit since v1.10.1: MAX_TARBALL_SIZE_MB = 1500 in
 * runpod/flash src/runpod_flash/core/resources/constants.py). */
const MAX_ARTIFACT_MB = 1500;

/** Options of a build. */
export interface BuildOptions {
  root: string;
  scope?: Scope;
  /** App name (default: the workspace folder's name, plus the scope). */
  app?: string;
  /** Output folder (default `<root>/.flash`). */
  outDir?: string;
  /** Size limit in MB (default MAX_ARTIFACT_MB). */
  maxMb?: number;
}

/** Per-resource facts for the summary. */
interface ResourceSummary {
  name: string;
  type: string;
  functions: number;
  /** Bytes of the source files its code imports. */
  sourceBytes: number;
}

/** What a build produced. */
export interface BuildResult {
  app: string;
  /** Env values never written: the manifest records them by digest. */
  manifest: Manifest;
  /** Each resource's template env with its values (the deploy sends them; nothing writes them). */
  env: Record<string, EnvVarInput[]>;
  manifestPath: string;
  artifactPath: string;
  artifactBytes: number;
  sha256: string;
  files: number;
  packages: string[];
  missing: string[];
  /** Package files left out of the artifact: source maps and type declarations (no worker runs them). */
  pruned: { files: number; bytes: number };
  resources: ResourceSummary[];
  ms: number;
}

/** Build the artifact and manifest; throws (writing nothing) when a module fails to load or the artifact is too big. */
export async function runBuild(opts: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const root = opts.root;
  const scope = opts.scope ?? {};
  const app = opts.app ?? defaultAppName(root, scope);
  const d = await discoverDeploy(root, scope, app);
  const mothershipFile = d.mothership.source === "default" ? [] : [join(root, d.mothership.source)];
  const leftOut: string[] = [];
  const sources = selectSources(root, scope, [...d.routerFiles, ...mothershipFile], (rel) => leftOut.push(rel));
  if (leftOut.length) {
    blog.warn(
      `left out ${leftOut.length} file(s) that look like credentials or editor leftovers: ${leftOut.join(", ")} ` +
        "(the artifact is unpacked on every worker; rename a file that must travel)",
    );
  }
  const declared = [...d.resources.values()].flatMap((r) =>
    r.functions.filter((f) => f.dependencies?.length).map((f) => ({ module: f.module, deps: f.dependencies! })),
  );
  const collected = collectFiles(root, sources, declared);
  const built = buildManifest(d, app, sources);
  // Env values stay in memory for the deploy: the manifest (written here, packaged, stored on Runpod) has digests.
  const env = Object.fromEntries(Object.entries(built.resources).map(([name, r]) => [name, r.template.env]));
  const manifest: Manifest = {
    ...built,
    resources: Object.fromEntries(
      Object.entries(built.resources).map(([name, r]) => [
        name,
        { ...r, template: { ...r.template, env: digestEnv(r.template.env) } },
      ]),
    ),
  };
  const manifestText = `${stableStringify(manifest)}\n`;
  // flash's worker program (and the mothership's), bundled, for stock images: their start command runs them.
  const { workerProgram } = await import("../runpod/worker-program");
  const program = await workerProgram();
  const bytes = tarGz([
    ...collected.entries,
    { path: "flash_manifest.json", type: "file", data: new TextEncoder().encode(manifestText) },
    // The program's entry and the chunks it imports, side by side (worker/main.js is RUNTIME_PATH).
    ...Object.entries(program.files).map(([name, code]) => ({
      path: `${dirname(RUNTIME_PATH)}/${name}`,
      type: "file" as const,
      data: new TextEncoder().encode(code),
    })),
    ...(await mothershipRuntime()),
  ]);
  const maxMb = opts.maxMb ?? MAX_ARTIFACT_MB;
  if (bytes.length > maxMb * 1024 * 1024) {
    const biggest = collected.packages.slice(0, 10).join(", ");
    throw new Error(
      `the artifact is ${(bytes.length / 1048576).toFixed(1)} MB, over the ${maxMb} MB limit Runpod accepts. ` +
        `Leave files out with .flashignore, or move large models to a network volume (packages shipped: ${biggest}).`,
    );
  }
  const outDir = opts.outDir ?? join(scopeDir(root, scope), ".flash");
  mkdirSync(outDir, { recursive: true });
  const artifactPath = join(outDir, "artifact.tar.gz");
  const manifestPath = join(outDir, "flash_manifest.json");
  writeFileAtomic(artifactPath, bytes);
  writeFileAtomic(manifestPath, manifestText);
  const resources: ResourceSummary[] = Object.entries(manifest.resources).map(([name, r]) => {
    const files = r.is_mothership
      ? localClosure(root, d.routerFiles)
      : localClosure(root, [...new Set(r.functions.map((f) => join(root, f.module)))]);
    return {
      name,
      type: r.resource_type,
      functions: r.functions.length,
      sourceBytes: files.reduce((n, f) => n + statSync(f).size, 0),
    };
  });
  return {
    app,
    manifest,
    env,
    manifestPath,
    artifactPath,
    artifactBytes: bytes.length,
    sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"),
    files: collected.entries.length + 1,
    packages: collected.packages,
    missing: collected.missing,
    pruned: collected.pruned,
    resources,
    ms: Math.round(performance.now() - started),
  };
}

/**
 * The mothership runtime: the worker program with the unified app and its docs assets, bundled from source, or, in
 * the compiled binary (no sources), the copy bundled into it at build time (mothership-runtime-bundle.ts).
 */
let runtimeCache: Promise<TarEntry[]> | undefined;
function mothershipRuntime(): Promise<TarEntry[]> {
  runtimeCache ??= bundleMothershipRuntime().catch((err) => {
    runtimeCache = undefined;
    throw err;
  });
  return runtimeCache;
}

/** The entry's file name in the bundle (Bun names it after the entry module). */
const RUNTIME_ENTRY = "mothership-entry.js";

async function bundleMothershipRuntime(): Promise<TarEntry[]> {
  const entry = join(import.meta.dir, "..", "..", "worker", "mothership-entry.ts");
  let files: Record<string, Uint8Array>;
  if (!existsSync(entry)) {
    const { MOTHERSHIP_RUNTIME } = await import("./mothership-runtime-bundle");
    files = Object.fromEntries(Object.entries(MOTHERSHIP_RUNTIME).map(([n, t]) => [n, new TextEncoder().encode(t)]));
  } else {
    const result = await Bun.build({ entrypoints: [entry], target: "bun", format: "esm", minify: true });
    if (!result.success)
      throw new Error(`bundling the mothership runtime failed: ${result.logs.map(String).join("; ")}`);
    files = {};
    for (const o of result.outputs) files[o.path.replace(/^\.\//, "")] = new Uint8Array(await o.arrayBuffer());
  }
  if (!files[RUNTIME_ENTRY]) throw new Error(`the mothership runtime bundle has no ${RUNTIME_ENTRY}`);
  const dir = dirname(MOTHERSHIP_RUNTIME_PATH);
  return Object.entries(files).map(([name, data]) => ({
    path: name === RUNTIME_ENTRY ? MOTHERSHIP_RUNTIME_PATH : `${dir}/${name}`,
    type: "file" as const,
    data,
  }));
}

/** The build summary a person reads (files, dependencies, size per resource). */
export function buildSummary(r: BuildResult, root: string): string {
  const lines = [
    `Built ${r.app}: ${Object.keys(r.manifest.resources).length} resources, ${Object.keys(r.manifest.function_registry).length} remote functions, in ${r.ms} ms`,
    "",
  ];
  const rows = r.resources.map((x) => [
    x.name,
    r.manifest.resources[x.name]!.is_mothership ? `${x.type} (app)` : x.type,
    String(x.functions),
    formatBytes(x.sourceBytes),
  ]);
  lines.push(renderTable(["RESOURCE", "TYPE", "FUNCTIONS", "SOURCES"], rows, [2]));
  lines.push(`  files packaged   ${r.files}`);
  lines.push(
    `  npm packages     ${r.packages.length}${r.packages.length ? ` (${r.packages.slice(0, 6).join(", ")}${r.packages.length > 6 ? ", …" : ""})` : ""}`,
  );
  if (r.pruned.files)
    lines.push(
      `  left out         ${r.pruned.files} source maps and type declarations of packages (${formatBytes(r.pruned.bytes)}: no worker runs them)`,
    );
  if (r.missing.length)
    lines.push(
      `  not installed    ${r.missing.join(", ")} (run bun install; declared dependencies install on the worker)`,
    );
  lines.push(
    `  artifact         ${relative(root, r.artifactPath)} (${formatBytes(r.artifactBytes)}, sha256 ${r.sha256.slice(0, 12)})`,
  );
  lines.push(`  manifest         ${relative(root, r.manifestPath)}`);
  if (process.platform !== "linux" || process.arch !== "x64") {
    lines.push("");
    lines.push(
      `  note: npm packages were installed for ${process.platform}-${process.arch}; Runpod workers are linux-x64, so packages with native code may not load there`,
    );
  }
  return `${lines.join("\n")}\n`;
}
