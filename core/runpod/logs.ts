import type { ConsolaInstance } from "consola";
import { log } from "../base/log";

/**
 * A tagged logger that follows the main logger's current level and reporters (a `withTag` child made at import
 * time would keep the ones of that moment, so `--verbose` and test captures would miss its lines).
 */
export function tagged(tag: string): ConsolaInstance {
  return new Proxy({} as ConsolaInstance, {
    get: (_t, prop) => {
      const child = log.withTag(tag) as unknown as Record<PropertyKey, unknown>;
      const value = child[prop];
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(child) : value;
    },
  });
}
