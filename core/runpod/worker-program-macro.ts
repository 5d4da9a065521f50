import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Bundle-time macro: flash's Runpod worker program (worker/main.ts and what it imports) as minified ESM files
 * (`main.js` and its chunks),
 * so the compiled binary can send it to stock-image workers. Bun.build cannot run inside a macro: this spawns the
 * bun CLI, as runtime-macro.ts does.
 */
export function bundleWorkerProgram(): Record<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), "flash-worker-program-"));
  try {
    const entry = join(import.meta.dir, "..", "..", "worker", "main.ts");
    const args = ["build", entry, "--target=bun", "--format=esm", "--minify", "--splitting", `--outdir=${outdir}`];
    args.push("--entry-naming=[name].[ext]", "--chunk-naming=chunk-[hash].[ext]");
    const result = Bun.spawnSync([process.execPath, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    if (result.exitCode !== 0) throw new Error(`bundling the worker program failed: ${result.stderr.toString()}`);
    const files: Record<string, string> = {};
    for (const name of readdirSync(outdir)) files[name] = readFileSync(join(outdir, name), "utf8");
    return files;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
