import { join } from "node:path";

/**
 * Bundle-time macro: bundles the public API (core/index.ts and everything it imports) into one ESM file for bun,
 * so the compiled binary can write it into a workspace for processes that cannot see the binary's embedded modules
 * (`BUN_BE_BUN=1` test runs, plain `bun`). Bun.build cannot run inside a macro, so it spawns the bun CLI.
 */
export function bundleRuntime(): string {
  const entry = join(import.meta.dir, "index.ts");
  const result = Bun.spawnSync([process.execPath, "build", entry, "--target=bun", "--format=esm", "--minify"], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUN_BE_BUN: "1" },
  });
  if (result.exitCode !== 0) throw new Error(`bundling the flash runtime failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
