import { join } from "node:path";
import { bundleForBun } from "../base/bun-build";

/**
 * Bundle-time macro: flash's Runpod worker program (worker/main.ts and what it imports) as minified ESM files
 * (`main.js` and its chunks), so the compiled binary can send it to stock-image workers.
 */
export function bundleWorkerProgram(): Record<string, string> {
  return bundleForBun([join(import.meta.dir, "..", "..", "worker", "main.ts")], "the worker program");
}
