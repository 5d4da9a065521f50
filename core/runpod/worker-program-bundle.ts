import { bundleWorkerProgram } from "./worker-program-macro" with { type: "macro" };

/** flash's Runpod worker program bundled at build time (a macro); imported only by the compiled binary. */
export const WORKER_PROGRAM: Record<string, string> = bundleWorkerProgram();
