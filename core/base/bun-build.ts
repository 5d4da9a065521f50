import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * For the bundle-time macros (`runtime-macro.ts`, `worker-program-macro.ts`): bundle `entries` for bun as minified
 * ESM files that share chunks (`<entry>.js`, `chunk-<hash>.js`), returned as file name → content. Bun.build cannot
 * run inside a macro, so this spawns the bun CLI. `what` names the bundle in the error.
 */
export function bundleForBun(entries: string[], what: string): Record<string, string> {
  const outdir = mkdtempSync(join(tmpdir(), "flash-bundle-"));
  try {
    const args = ["build", ...entries, "--target=bun", "--format=esm", "--minify", "--splitting", `--outdir=${outdir}`];
    args.push("--entry-naming=[name].[ext]", "--chunk-naming=chunk-[hash].[ext]");
    const result = Bun.spawnSync([process.execPath, ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUN_BE_BUN: "1" },
    });
    if (result.exitCode !== 0) throw new Error(`bundling ${what} failed: ${result.stderr.toString()}`);
    const files: Record<string, string> = {};
    for (const name of readdirSync(outdir)) files[name] = readFileSync(join(outdir, name), "utf8");
    return files;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
