import { runtimeTypes } from "./runtime-types" with { type: "macro" };

/** The runtime's type declarations, made at build time (a macro), path → content; imported only by the binary. */
export const RUNTIME_TYPES: Record<string, string> = runtimeTypes();
