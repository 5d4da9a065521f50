import { beforeAll } from "bun:test";
import { runtimeTypes } from "../../core/workspace/runtime-types";

/**
 * For test files that spawn `flash init` or `flash test` from source: emit the runtime's declarations first (or wait
 * for the process emitting them), outside any one test's timeout. After a change of core that takes tsc seconds.
 */
export function warmRuntimeTypes(): void {
  beforeAll(() => {
    runtimeTypes();
  }, 180_000);
}
