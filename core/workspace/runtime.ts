import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../base/fs";
import { isCompiled } from "../base/binary";

/** Where a workspace keeps the extracted runtime (`import … from "flash"` for processes outside the binary). */
const RUNTIME_DIR = ".flash/runtime";

/** Files of the extracted runtime. */
export interface RuntimeFiles {
  dir: string;
  /** The public API as one ESM module; the workspace tsconfig maps `flash` to it. */
  entry: string;
  /** Declarations of the public API (and, beside them, of elysia, typebox and consola) for editors and tsc. */
  types: string;
  /** A bun preload that maps `flash` to `entry` when nothing else resolves it. */
  preload: string;
}

/** True when `root` is flash's own source tree, where `flash` resolves to core/index.ts through tsconfig paths. */
export function isSourceWorkspace(root: string): boolean {
  return existsSync(join(root, "cli.ts")) && existsSync(join(root, "core", "index.ts"));
}

/**
 * The command a workspace's package.json scripts use to call flash: the source tree's cli.ts inside flash's own
 * repository (relative to an example folder), else the `flash` binary on PATH.
 */
export function flashCommand(root: string, fromDepth: number): string {
  return isSourceWorkspace(root) ? `bun ${"../".repeat(fromDepth)}cli.ts` : "flash";
}

/** The runtime's files (name → content) for `.flash/runtime/`; `flash.js` is the entry the workspace maps `flash` to. */
async function runtimeFiles(): Promise<Record<string, string>> {
  // From source, the runtime is core/index.ts itself: a one-line re-export keeps a single copy of it.
  if (!isCompiled())
    return { "flash.js": `export * from ${JSON.stringify(join(import.meta.dir, "..", "index.ts"))};\n` };
  const { RUNTIME_BUNDLE } = await import("./runtime-bundle");
  const files: Record<string, string> = { ...RUNTIME_BUNDLE, "flash.js": `export * from "./index.js";\n` };
  // The pool starts workers (threads and subprocesses) from "pool-entry.ts" beside its own module: behind this shim
  // the bundled entry is not its thread's or process's entry, so the shim starts it.
  if (RUNTIME_BUNDLE["pool-entry.js"]) {
    files["pool-entry.ts"] = `import { runPoolWorker } from "./pool-entry.js";\nawait runPoolWorker();\n`;
  }
  return files;
}

/** The runtime's declarations (`types/…`): embedded in the binary, emitted (and cached) from the source tree. */
async function typesFiles(): Promise<Record<string, string>> {
  const types = isCompiled()
    ? (await import("./runtime-types-bundle")).RUNTIME_TYPES
    : (await import("./runtime-types")).runtimeTypes();
  return Object.fromEntries(Object.entries(types).map(([rel, content]) => [`types/${rel}`, content]));
}

/**
 * The runtime folder as a package: tsc (through the workspace's `paths`) reads `types`, bun reads `main`, so one
 * mapping gives editors real declarations and processes the real runtime.
 */
const RUNTIME_PACKAGE = `${JSON.stringify(
  { name: "flash", private: true, type: "module", main: "./flash.js", types: "./types/flash/index.d.ts" },
  null,
  2,
)}\n`;

const PRELOAD = `// Written by flash (do not edit): when the workspace's tsconfig does not map "flash", resolve it to the
// runtime beside this file, so tests run by \`flash test\` (or \`bun test --preload\`) can import it.
import { plugin } from "bun";
let mapped = true;
try {
  Bun.resolveSync("flash", process.cwd());
} catch {
  mapped = false;
}
if (!mapped) {
  const flash = await import("./flash.js");
  plugin({ name: "flash-runtime", setup(build) { build.module("flash", () => ({ exports: flash, loader: "object" })); } });
}
`;

function writeIfChanged(path: string, content: string): boolean {
  if (existsSync(path) && readFileSync(path, "utf8") === content) return false;
  writeFileAtomic(path, content);
  return true;
}

/**
 * Write (or refresh) `.flash/runtime/` in a workspace: the runtime this flash carries, its declarations and a
 * preload. Files are rewritten only when their content changed, so concurrent runs and editors stay calm.
 */
export async function ensureRuntime(root: string): Promise<RuntimeFiles> {
  const dir = join(root, RUNTIME_DIR);
  const files: RuntimeFiles = {
    dir,
    entry: join(dir, "flash.js"),
    types: join(dir, "types", "flash", "index.d.ts"),
    preload: join(dir, "preload.js"),
  };
  const wanted: Record<string, string> = {
    ...(await runtimeFiles()),
    ...(await typesFiles()),
    "package.json": RUNTIME_PACKAGE,
    "preload.js": PRELOAD,
  };
  for (const [name, content] of Object.entries(wanted)) writeIfChanged(join(dir, name), content);
  // Chunks and declarations of an older flash would only confuse a reader of the folder: drop what this version
  // does not write.
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (!(name in wanted) && existsSync(path) && statSync(path).isFile()) rmSync(path, { force: true });
  }
  return files;
}
