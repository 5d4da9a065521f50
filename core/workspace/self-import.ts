import * as elysia from "elysia";
import * as flash from "..";

let registered = false;

/**
 * Make `import … from "flash"` (and "elysia") inside on-disk examples resolve to the copies inside this process.
 * In the compiled binary the engine is embedded, so without this an example would load a second, separate copy of
 * core from disk (or fail to find one at all in a workspace that has only the binary).
 */
export function registerFlashModules(): void {
  if (registered) return;
  registered = true;
  Bun.plugin({
    name: "flash-modules",
    setup(build) {
      build.module("flash", () => ({ exports: flash as Record<string, unknown>, loader: "object" }));
      build.module("elysia", () => ({ exports: elysia as Record<string, unknown>, loader: "object" }));
    },
  });
}
