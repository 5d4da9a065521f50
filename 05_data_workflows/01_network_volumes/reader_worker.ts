import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CpuLiveLoadBalancer, Elysia, remote, t } from "flash";
import type { StoredTag } from "./tagger_worker";
import { MODELS_DIR, TAGS_DIR, volume } from "./volume";
import type { ModelManifest } from "./weights";

// Workers import this module and get only its bundled code, never the files beside it: no file reads at import
// time. The volume is read inside the remote functions, in the workers that have it mounted.

/**
 * The reader: a CPU load-balanced endpoint with the same volume attached. Its routes answer over HTTP directly
 * (no queue), which suits many small reads; it never runs the model, it only reads what the writer stored.
 */
const readerConfig = new CpuLiveLoadBalancer({
  name: "05_01_reader",
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 30,
  networkVolume: volume,
});

/** One stored result, without its text. */
interface Summary {
  id: string;
  language: string;
  confidence: number;
  chars: number;
  timestamp: string;
}

const ID = /^[0-9a-f]{16}$/;

/** GET /results on the endpoint: every result on the volume, oldest first. */
export const listResults = remote(
  readerConfig,
  async (): Promise<{ count: number; results: Summary[] }> => {
    const dir = join(volume.path, TAGS_DIR);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => ID.test(f.replace(/\.json$/, ""))) : [];
    const results = await Promise.all(
      files.map(async (f) => {
        const r = (await Bun.file(join(dir, f)).json()) as StoredTag;
        return {
          id: r.id,
          language: r.language,
          confidence: r.confidence,
          chars: r.text.length,
          timestamp: r.timestamp,
        };
      }),
    );
    results.sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.id.localeCompare(b.id));
    return { count: results.length, results };
  },
  { method: "GET", path: "/results" },
);

/** POST /results/read on the endpoint: one stored result with its text, or null when the volume has none. */
export const readResult = remote(
  readerConfig,
  async (id: string): Promise<StoredTag | null> => {
    const file = join(volume.path, TAGS_DIR, `${id}.json`);
    if (!ID.test(id) || !existsSync(file)) return null;
    return (await Bun.file(file).json()) as StoredTag;
  },
  { method: "POST", path: "/results/read" },
);

/** GET /models on the endpoint: the model folders on the volume, each with its manifest (complete copies only). */
export const listModels = remote(
  readerConfig,
  async (): Promise<{ models: (ModelManifest & { folder: string })[] }> => {
    const dir = join(volume.path, MODELS_DIR);
    const names = existsSync(dir) ? readdirSync(dir).filter((name) => !name.includes(".tmp-")) : [];
    const models = [];
    for (const name of names.sort()) {
      // No manifest (yet), or one that does not parse: not a complete copy, so not listed.
      const manifest = (await Bun.file(join(dir, name, "manifest.json"))
        .json()
        .catch(() => null)) as ModelManifest | null;
      if (manifest) models.push({ folder: `${MODELS_DIR}/${name}`, ...manifest });
    }
    return { models };
  },
  { method: "GET", path: "/models" },
);

const SummarySchema = t.Object({
  id: t.String(),
  language: t.String(),
  confidence: t.Number(),
  chars: t.Integer({ description: "Length of the stored text" }),
  timestamp: t.String(),
});
const NotFound = t.Object({ error: t.Literal("not_found"), message: t.String() });

const ModelSchema = t.Object({
  folder: t.String({ description: "The model's folder on the volume" }),
  model: t.String(),
  files: t.Array(t.Object({ name: t.String(), bytes: t.Integer(), sha256: t.String() })),
  copied: t.Object({
    from: t.String(),
    worker: t.String({ description: "The worker that copied the weights to the volume" }),
    timestamp: t.String(),
  }),
});

/** GET /results, GET /results/:id and GET /models: what the writer stored on the volume, read by the reader. */
export const reader_router = new Elysia()
  .get("/results", () => listResults(), {
    response: { 200: t.Object({ count: t.Integer(), results: t.Array(SummarySchema) }) },
    detail: { summary: "List the results on the network volume (read by the reader endpoint)" },
  })
  .get("/models", () => listModels(), {
    response: { 200: t.Object({ models: t.Array(ModelSchema) }) },
    detail: { summary: "The model weights cached on the network volume, with their manifests" },
  })
  .get(
    "/results/:id",
    async ({ params, status }) => {
      const found = await readResult(params.id);
      if (!found) return status(404, { error: "not_found" as const, message: `no result ${params.id} on the volume` });
      return found;
    },
    {
      params: t.Object({ id: t.String({ pattern: "^[0-9a-f]{16}$", description: "A result id (16 hex digits)" }) }),
      response: {
        200: t.Object({
          id: t.String(),
          text: t.String(),
          language: t.String(),
          confidence: t.Number(),
          candidates: t.Array(t.Object({ language: t.String(), confidence: t.Number() })),
          model: t.String(),
          timestamp: t.String(),
        }),
        404: NotFound,
      },
      detail: { summary: "One stored result with its text (404 when the volume has none)" },
    },
  );
