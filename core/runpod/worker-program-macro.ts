import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Bundle-time macro: flash's Runpod worker program (worker/main.ts and what it imports) as one minified ESM file,
 * so the compiled binary can send it to stock-image workers. Bun.build cannot run inside a macro: this spawns the
 * bun CLI, as runtime-macro.ts does.
 */
export function bundleWorkerProgram(): string {
  const outdir = mkdtempSync(join(tmpdir(), "flash-worker-program-"));
  try {
    const entry = join(import.meta.dir, "..", "..", "worker", "main.ts");
    const args = ["build", entry, "--target=bun", "--format=esm", "--minify", `--outfile=${join(outdir, "worker.js")}`];
    const result = Bun.spawnSync([process.execPath, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    if (result.exitCode !== 0) throw new Error(`bundling the worker program failed: ${result.stderr.toString()}`);
    return readFileSync(join(outdir, "worker.js"), "utf8");
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
