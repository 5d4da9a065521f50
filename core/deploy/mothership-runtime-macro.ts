import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Bundle-time macro: the deployed mothership's runtime (worker/mothership-entry.ts: the worker program with the
 * unified app) and the docs assets it loads, as `{ file name: text }` with the entry as `mothership-entry.js`, so
 * that artifacts built by the compiled binary carry it too. Bun.build cannot run inside a macro: this spawns the bun
 * CLI, as worker-program-macro.ts does. The entry's import graph must not reach this file (it would bundle itself
 * again); the variable below stops such a loop at the first nested call.
 */
export function bundleMothershipRuntime(): Record<string, string> {
  if (process.env.FLASH_BUNDLING_MOTHERSHIP) {
    throw new Error("the mothership runtime's import graph reaches its own bundling macro");
  }
  const outdir = mkdtempSync(join(tmpdir(), "flash-mothership-runtime-"));
  try {
    const entry = join(import.meta.dir, "..", "..", "worker", "mothership-entry.ts");
    const result = Bun.spawnSync(
      [process.execPath, "build", entry, "--target=bun", "--format=esm", "--minify", `--outdir=${outdir}`],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, BUN_BE_BUN: "1", FLASH_BUNDLING_MOTHERSHIP: "1" } },
    );
    if (result.exitCode !== 0) throw new Error(`bundling the mothership runtime failed: ${result.stderr.toString()}`);
    const files: Record<string, string> = {};
    for (const name of readdirSync(outdir)) files[name] = readFileSync(join(outdir, name), "utf8");
    return files;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
