/**
 * flash's Runpod worker program as a call carries it to a stock-image worker, and the bootstrap that receives it.
 * From source the program is bundled on first use (Bun.build, about 0.1 s); the compiled binary carries it
 * bundled at build time (worker-program-macro.ts), because it has no sources to bundle.
 */
import { shortHash } from "../base/fs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import bootstrapSource from "../../worker/bootstrap.js" with { type: "text" };
import type { ShippedProgram } from "./api";

/** The worker program: its content hash (names it in FLASH_WORKER_HASH and in calls) and its code. */
export type WorkerProgram = Required<ShippedProgram>;

const ENTRY = join(import.meta.dir, "..", "..", "worker", "main.ts");
let program: Promise<WorkerProgram> | undefined;

/** The same 16-hex sha256 prefix the bootstrap checks a received program against. */
export function programHash(code: string): string {
  return shortHash(code);
}

/** The worker program, bundled once per process. */
export function workerProgram(): Promise<WorkerProgram> {
  program ??= build().catch((err) => {
    program = undefined;
    throw err;
  });
  return program;
}

async function build(): Promise<WorkerProgram> {
  if (!existsSync(ENTRY)) {
    const { WORKER_PROGRAM } = await import("./worker-program-bundle");
    return { hash: programHash(WORKER_PROGRAM), code: WORKER_PROGRAM };
  }
  const result = await Bun.build({ entrypoints: [ENTRY], target: "bun", format: "esm", minify: true });
  if (!result.success) throw new Error(`bundling flash's worker program failed: ${result.logs.map(String).join("; ")}`);
  const code = await result.outputs[0]!.text();
  return { hash: programHash(code), code };
}

/** worker/bootstrap.js, whitespace-minified and base64-encoded for the template's FLASH_BOOTSTRAP. */
export function bootstrapBase64(): string {
  const js = new Bun.Transpiler({ loader: "js", minifyWhitespace: true }).transformSync(bootstrapSource);
  return Buffer.from(js).toString("base64");
}
