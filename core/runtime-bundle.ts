import { bundleRuntime } from "./runtime-macro" with { type: "macro" };

/** The public API bundled into one ESM file at build time (a macro); imported only by the compiled binary. */
export const RUNTIME_BUNDLE: string = bundleRuntime();
