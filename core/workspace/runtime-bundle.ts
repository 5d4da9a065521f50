import { bundleRuntime } from "./runtime-macro" with { type: "macro" };

/** The public API bundled at build time (a macro), file name → content; imported only by the compiled binary. */
export const RUNTIME_BUNDLE: Record<string, string> = bundleRuntime();
