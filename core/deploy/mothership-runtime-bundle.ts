import { bundleMothershipRuntime } from "./mothership-runtime-macro" with { type: "macro" };

/** The mothership runtime bundled at build time (a macro); imported only by the compiled binary. */
export const MOTHERSHIP_RUNTIME: Record<string, string> = bundleMothershipRuntime();
