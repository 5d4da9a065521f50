import { existsSync } from "node:fs";
import { join } from "node:path";
import { bundleForBun } from "../base/bun-build";

/**
 * Bundle-time macro: bundles the public API (core/index.ts and everything it imports) for bun, so the compiled
 * binary can write it into a workspace for processes that cannot see the binary's embedded modules
 * (`BUN_BE_BUN=1` test runs, plain `bun`). The pool's worker entry is a second entry point of the same split
 * build, so a worker thread and the examples it imports share one copy of the registry. Returns file name → content.
 */
export function bundleRuntime(): Record<string, string> {
  const core = join(import.meta.dir, "..");
  const entries = [join(core, "index.ts"), join(core, "remote", "worker", "pool-entry.ts")].filter((f) =>
    existsSync(f),
  );
  return bundleForBun(entries, "the flash runtime");
}
