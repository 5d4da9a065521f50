/**
 * Facts about the running flash: the compiled binary or source, the commit it was built from, the `flash --version`
 * line, and how to run plain bun from either. Imported by cli.ts's fast path, so it imports nothing.
 */

// Stamped by `bun run release` (`--define FLASH_COMMIT="<sha>"`); absent when run from source or `bun run build`.
declare const FLASH_COMMIT: string | undefined;

/**
 * Whether a module path lies inside a compiled binary's embedded file system: `/$bunfs/…` on Linux and macOS,
 * `B:\~BUN\…` on Windows (which Bun also accepts as `B:/~BUN/…`). See oven-sh/bun src/StandaloneModuleGraph.zig
 * (`base_path`, `targetBasePublicPath`).
 */
export function isEmbeddedPath(path: string): boolean {
  return path.startsWith("/$bunfs/") || /^B:[\\/]~BUN[\\/]/.test(path);
}

/**
 * The folder of flash's own engine modules (`core/`), which a reload never purges and a watcher never watches: the
 * folder above this file's `core/base/` from source; in a bundle (the compiled binary, a workspace's
 * `.flash/runtime/`, the worker program) this file's own folder, which holds only flash's chunks.
 */
export const ENGINE_DIR = /[\\/]core[\\/]base$/.test(import.meta.dir)
  ? import.meta.dir.slice(0, -"/base".length)
  : import.meta.dir;

/** Whether a path is flash's engine: its folder, a module under it, or a module embedded in the compiled binary. */
export function isEngineModule(path: string): boolean {
  if (isEmbeddedPath(path)) return true;
  if (!path.startsWith(ENGINE_DIR)) return false;
  const next = path[ENGINE_DIR.length];
  return next === undefined || next === "/" || next === "\\";
}

/** Whether this process runs the compiled flash binary (rather than the sources under bun). */
export function isCompiled(): boolean {
  return isEmbeddedPath(import.meta.path);
}

/** The commit this binary was built from, or undefined (from source, or a build that did not stamp it). */
function buildCommit(): string | undefined {
  return typeof FLASH_COMMIT === "string" ? FLASH_COMMIT : undefined;
}

/** The `flash --version` line: `0.1.0 (commit 1a2b3c4d5e6f, bun 1.4.5, linux-x64)`; the version comes first. */
export function versionLine(version: string): string {
  const commit = buildCommit();
  const from = commit ? `commit ${commit}` : isCompiled() ? "commit unknown" : "from source";
  return `${version} (${from}, bun ${Bun.version}, ${process.platform}-${process.arch})\n`;
}

/** Command and environment that run this process as plain bun (the binary's embedded bun when compiled). */
export function bunCommand(args: string[]): { cmd: string[]; env: Record<string, string | undefined> } {
  return { cmd: [process.execPath, ...args], env: { ...process.env, BUN_BE_BUN: "1" } };
}
