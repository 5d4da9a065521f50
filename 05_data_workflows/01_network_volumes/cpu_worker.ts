import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CpuLiveLoadBalancer, Elysia, remote, t } from "flash";
import type { StoredTag } from "./gpu_worker";
import { TAGS_DIR, volume } from "./volume";

// Workers import this module and get only its bundled code, never the files beside it: no file reads at import
// time. The volume is read inside the remote functions, in the workers that have it mounted.

/**
 * The reader: a CPU load-balanced endpoint with the same volume attached. Its routes answer over HTTP directly
 * (no queue), which suits many small reads; it never runs the model, it only reads what the writer stored.
 */
const cpuConfig = new CpuLiveLoadBalancer({
  name: "05_01_cpu",
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
  cpuConfig,
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
  cpuConfig,
  async (id: string): Promise<StoredTag | null> => {
    const file = join(volume.path, TAGS_DIR, `${id}.json`);
    if (!ID.test(id) || !existsSync(file)) return null;
    return (await Bun.file(file).json()) as StoredTag;
  },
  { method: "POST", path: "/results/read" },
);

const SummarySchema = t.Object({
  id: t.String(),
  language: t.String(),
  confidence: t.Number(),
  chars: t.Integer({ description: "Length of the stored text" }),
  timestamp: t.String(),
});
const NotFound = t.Object({ error: t.Literal("not_found"), message: t.String() });

/** GET /results and GET /results/:id: what the writer stored on the volume, read by the CPU endpoint. */
export const cpu_router = new Elysia()
  .get("/results", () => listResults(), {
    response: { 200: t.Object({ count: t.Integer(), results: t.Array(SummarySchema) }) },
    detail: { summary: "List the results on the network volume (read by the CPU endpoint)" },
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
