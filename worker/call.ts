/** One call inside flash's Runpod worker: what input it accepts, where its code lands (by hash), how it runs. */
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { InputError } from "../core/base/errors";
import { shortHash, writeFileAtomic } from "../core/base/fs";
import { execute } from "../core/remote/worker/executor";
import type { FunctionRequest, FunctionResponse } from "../core/remote/protocol";
import type { MissingCode, ShippedCall } from "../core/runpod/api";
import { DependencyError, ensureNpmDependencies, ensureSystemDependencies } from "./deps";

/** The call names code by hash that this worker does not have (flash re-sends the call with the code). */
class CodeMissingError extends Error {
  override name = "CodeMissing";
  constructor(readonly missing: MissingCode[]) {
    super(`this worker does not have the ${missing.join(" and ")} code of this call yet; send the call with it`);
  }
}

/** Check that a job input is a flash call (bundle + request) and return it typed; `bundle.code` may be absent. */
export function parseShippedCall(input: unknown): ShippedCall {
  const call = (
    input && typeof input === "object" && "input" in (input as object) && !("flash" in (input as object))
      ? (input as { input: unknown }).input
      : input
  ) as Partial<ShippedCall> | null;
  if (!call || typeof call !== "object" || call.flash !== 1) {
    throw new InputError("job input is not a flash call: expected {flash: 1, bundle, request}");
  }
  const b = call.bundle;
  const codeOk = b?.code === undefined || typeof b.code === "string";
  if (!b || typeof b.path !== "string" || !codeOk || typeof b.hash !== "string" || !/^[a-f0-9]{8,64}$/.test(b.hash)) {
    throw new InputError("job input.bundle must be {path, hash, code?}");
  }
  const rel = normalize(b.path);
  if (isAbsolute(rel) || rel.startsWith("..")) {
    throw new InputError(`job input.bundle.path must be relative and stay inside the bundle folder (got ${b.path})`);
  }
  const r = call.request;
  const kindOk = r?.executionType === "function" || r?.executionType === "class";
  if (!r || typeof r.name !== "string" || !Array.isArray(r.args) || !kindOk) {
    throw new InputError("job input.request must be a FunctionRequest {name, executionType, args}");
  }
  return { flash: 1, bundle: { ...b, path: rel }, request: r };
}

/**
 * Write a shipped bundle under `dir` (once per content hash) and return the file the executor imports:
 * `bundles/<hash>/<path>.bundle.js`, with every module it inlines (the entry included) written as source at
 * `bundles/<hash>/<its path>`, where the bundle's source map puts it. So stack traces and `remote()` calls name
 * real files with their own lines; the executor takes the function from the bundle's exports by name.
 */
export function materialize(dir: string, bundle: ShippedCall["bundle"]): string {
  const sourceRoot = join(dir, "bundles", bundle.hash);
  const file = join(sourceRoot, `${bundle.path}.bundle.js`);
  if (existsSync(file)) return file;
  if (bundle.code === undefined) throw new CodeMissingError(["bundle"]);
  // The hash names the content: code that does not match it is refused rather than cached under a wrong name.
  if (shortHash(bundle.code) !== bundle.hash) {
    throw new InputError(`job input.bundle.code does not match its hash ${bundle.hash}`);
  }
  for (const [rel, content] of inlinedSources(bundle.code, dirname(bundle.path))) {
    const target = normalize(join(sourceRoot, rel));
    if (!target.startsWith(sourceRoot + "/") || target.includes("/node_modules/") || existsSync(target)) continue;
    writeFileAtomic(target, content);
  }
  writeFileAtomic(file, bundle.code); // last: its presence means the whole layout is there
  return file;
}

/** The (path relative to the bundle folder, content) of each source in the bundle's inline source map. */
function inlinedSources(code: string, entryDir: string): [string, string][] {
  const m = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (!m) return [];
  try {
    const map = JSON.parse(Buffer.from(m[1]!, "base64").toString("utf8")) as {
      sources?: string[];
      sourcesContent?: (string | null)[];
    };
    return (map.sources ?? []).flatMap((s, i) => {
      const content = map.sourcesContent?.[i];
      return typeof content === "string" ? [[join(entryDir, s), content] as [string, string]] : [];
    });
  } catch {
    return []; // a map we cannot read only costs names in stack traces
  }
}

/** A call's response; `missing` when the worker lacked code the call named by hash (then nothing ran). */
export type WorkerResponse = FunctionResponse & { missing?: MissingCode[] };

/**
 * Distinct bundles this worker imported (a worker never unloads one, so it recycles itself after too many).
 * @public read by worker/main.ts through a lazily imported module, which knip cannot follow
 */
export const bundlesSeen = new Set<string>();

/**
 * Run one shipped call: dependencies, bundle, executor (a generator's chunks to `onChunk`; `signal` closes it early).
 * Never throws.
 */
export async function runCall(
  input: unknown,
  onChunk?: (chunk: unknown) => void,
  signal?: AbortSignal,
): Promise<WorkerResponse> {
  const notes: string[] = [];
  try {
    const call = parseShippedCall(input);
    notes.push(...(await ensureSystemDependencies(call.request.systemDependencies)));
    const deps = await ensureNpmDependencies(call.request.dependencies);
    notes.push(...deps.notes);
    const module = materialize(deps.dir, call.bundle);
    bundlesSeen.add(call.bundle.hash);
    const req: FunctionRequest = { ...call.request, module };
    const res = await execute(req, { onChunk, signal });
    if (notes.length) res.stdout = [...notes, ...(res.stdout ? [res.stdout] : [])].join("\n");
    return res;
  } catch (err) {
    const e = err as Error;
    const res: WorkerResponse = {
      success: false,
      error: { name: e?.name ?? "Error", message: e?.message ?? String(err), stack: e?.stack },
    };
    if (err instanceof CodeMissingError) res.missing = err.missing;
    if (err instanceof InputError) res.error!.status = 400;
    if (err instanceof DependencyError) res.error!.status = 500;
    if (notes.length) res.stdout = notes.join("\n");
    return res;
  }
}
