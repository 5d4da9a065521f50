import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../base/fs";

/** Packages whose declarations travel with flash's own: what `flash`'s types import, and what examples use beside it. */
const TYPED_PACKAGES = ["elysia", "@sinclair/typebox", "consola"];

const CORE = join(import.meta.dir, "..");
const REPO = join(CORE, "..");

/** Every file under `dir` that matches `pattern`, relative path → content. */
function readTree(dir: string, pattern: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const rel of new Bun.Glob(pattern).scanSync({ cwd: dir, followSymlinks: true })) {
    if (rel.includes("node_modules/")) continue;
    files[rel] = readFileSync(join(dir, rel), "utf8");
  }
  return files;
}

/** tsc's declaration output for the public entry (core/index.ts), relative path → content. */
function emitCoreDeclarations(): Record<string, string> {
  const out = mkdtempSync(join(tmpdir(), "flash-dts-"));
  try {
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    const args = [tsc, join(CORE, "index.ts"), "--declaration", "--emitDeclarationOnly", "--outDir", out];
    args.push("--rootDir", CORE, "--target", "ESNext", "--module", "Preserve", "--moduleResolution", "bundler");
    args.push("--types", "bun", "--strict", "--skipLibCheck", "--allowImportingTsExtensions", "--resolveJsonModule");
    const result = Bun.spawnSync([process.execPath, ...args], {
      cwd: REPO,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    if (result.exitCode !== 0) {
      throw new Error(
        `declarations of the flash runtime failed: ${result.stdout.toString()}${result.stderr.toString()}`,
      );
    }
    return readTree(out, "**/*.d.ts");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The declarations (and package.json, for `exports`) of the packages flash's types reference. */
function packageDeclarations(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of TYPED_PACKAGES) {
    const dir = join(REPO, "node_modules", name);
    // The ESM declarations only: workspaces resolve like a bundler (the `import` condition), so CommonJS copies
    // (typebox's build/cjs, consola's .d.cts) would double the folder for nothing.
    const tree = readTree(dir, "**/*.d.{ts,mts}");
    for (const rel of Object.keys(tree)) if (rel.includes("cjs/")) delete tree[rel];
    tree["package.json"] = readFileSync(join(dir, "package.json"), "utf8");
    for (const [rel, content] of Object.entries(tree)) files[`node_modules/${name}/${rel}`] = content;
  }
  return files;
}

/** A key that changes when core's sources or the typed packages change, for the source-tree cache. */
function sourceKey(): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const rel of [...new Bun.Glob("**/*.ts").scanSync({ cwd: CORE })].sort()) {
    hasher.update(rel);
    hasher.update(readFileSync(join(CORE, rel)));
  }
  for (const name of TYPED_PACKAGES) hasher.update(readFileSync(join(REPO, "node_modules", name, "package.json")));
  return hasher.digest("hex").slice(0, 16);
}

/**
 * The runtime's type declarations, path under `.flash/runtime/types/` → content: `flash/**` (tsc's output for
 * core/index.ts) and `node_modules/<pkg>/**` for elysia, typebox and consola, so the flash types resolve their imports
 * by walking up, as tsc does for any package. Run from the source tree (and, at build time, by the macro); emitting
 * takes tsc seconds, so the result is cached in the repository's `.flash/` under a key of core's sources.
 */
export function runtimeTypes(): Record<string, string> {
  const cache = join(REPO, ".flash", "types-cache", `${sourceKey()}.json`);
  const cached = () => JSON.parse(readFileSync(cache, "utf8")) as Record<string, string>;
  if (existsSync(cache)) return cached();
  // Several processes may want it at once (parallel test workers, a build beside `flash run`): one emits, the others
  // wait for its file instead of running tsc too.
  if (!takeLock(`${cache}.lock`, () => existsSync(cache))) return cached();
  try {
    const files: Record<string, string> = { ...packageDeclarations() };
    for (const [rel, content] of Object.entries(emitCoreDeclarations())) files[`flash/${rel}`] = content;
    writeFileAtomic(cache, JSON.stringify(files));
    return files;
  } finally {
    rmSync(`${cache}.lock`, { recursive: true, force: true });
  }
}

/** A lock older than this was left by a process that died while emitting (an emit takes seconds). */
const STALE_LOCK_MS = 120_000;

/**
 * Take the lock folder `lock` (true), or wait while another process holds it until `done()` says its work is there
 * (false). A stale lock is taken over.
 */
function takeLock(lock: string, done: () => boolean): boolean {
  mkdirSync(join(lock, ".."), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      // held by another process
    }
    if (done()) return false;
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
    } catch {
      // released while we looked
    }
    Bun.sleepSync(100);
  }
}
