import { existsSync } from "node:fs";
import { join } from "node:path";
import bootstrapSource from "../../worker/bootstrap.js" with { type: "text" };
import { shortHash } from "../base/fs";
import type { ShippedProgram } from "./api";

/** The worker program: its content hash (names it in FLASH_WORKER_HASH and in calls) and its files. */
export type WorkerProgram = Required<ShippedProgram>;

/** The entry file of the program (its other files are chunks it imports on demand). */
const PROGRAM_ENTRY = "main.js";

const ENTRY = join(import.meta.dir, "..", "..", "worker", "main.ts");
let program: Promise<WorkerProgram> | undefined;

/** The same 16-hex sha256 prefix the bootstrap checks a received program against (worker/bootstrap.js). */
function programHash(files: Record<string, string>): string {
  const canonical = JSON.stringify(
    Object.keys(files)
      .sort()
      .map((name) => [name, files[name]]),
  );
  return shortHash(canonical);
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
    return { hash: programHash(WORKER_PROGRAM), files: WORKER_PROGRAM };
  }
  // Split: the entry (job-take loop, heartbeat) is a few KB and starts at once; flash's engine, which the first
  // job needs, is a chunk imported while that first job-take is already out.
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "bun",
    format: "esm",
    minify: true,
    splitting: true,
    naming: { entry: "[name].[ext]", chunk: "chunk-[hash].[ext]" },
  });
  if (!result.success) throw new Error(`bundling flash's worker program failed: ${result.logs.map(String).join("; ")}`);
  const files: Record<string, string> = {};
  for (const out of result.outputs) files[out.path.replace(/^.*\//, "")] = await out.text();
  if (!files[PROGRAM_ENTRY]) throw new Error(`bundling flash's worker program produced no ${PROGRAM_ENTRY}`);
  return { hash: programHash(files), files };
}

/** worker/bootstrap.js, whitespace-minified and base64-encoded for the template's FLASH_BOOTSTRAP. */
export function bootstrapBase64(): string {
  bootstrapEncoded ??= Buffer.from(
    new Bun.Transpiler({ loader: "js", minifyWhitespace: true }).transformSync(bootstrapSource),
  ).toString("base64");
  return bootstrapEncoded;
}
let bootstrapEncoded: string | undefined;
