import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Bundle-time macro: bundles the public API (core/index.ts and everything it imports) for bun, so the compiled
 * binary can write it into a workspace for processes that cannot see the binary's embedded modules
 * (`BUN_BE_BUN=1` test runs, plain `bun`). The pool's worker entry is a second entry point of the same split
 * build, so a worker thread and the examples it imports share one copy of the registry. Bun.build cannot run
 * inside a macro, so this spawns the bun CLI. Returns file name → content.
 */
export function bundleRuntime(): Record<string, string> {
  const core = join(import.meta.dir, "..");
  const entries = [join(core, "index.ts"), join(core, "remote", "worker", "pool-entry.ts")].filter((f) =>
    existsSync(f),
  );
  const outdir = mkdtempSync(join(tmpdir(), "flash-runtime-"));
  try {
    const args = ["build", ...entries, "--target=bun", "--format=esm", "--minify", "--splitting", `--outdir=${outdir}`];
    args.push("--entry-naming=[name].[ext]", "--chunk-naming=chunk-[hash].[ext]");
    const result = Bun.spawnSync([process.execPath, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    if (result.exitCode !== 0) throw new Error(`bundling the flash runtime failed: ${result.stderr.toString()}`);
    const files: Record<string, string> = {};
    for (const name of readdirSync(outdir)) files[name] = readFileSync(join(outdir, name), "utf8");
    return files;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
