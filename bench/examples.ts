/**
 * Latency of the new examples on this machine's CPU, through the unified app and the local worker pool (HTTP route
 * → remote() → worker), the way `flash run` serves them: the first call (worker start, model load) and then N warm
 * calls (p50, p95). calling_endpoints calls an endpoint on an in-process Runpod emulator.
 *
 *   bun bench/examples.ts [--n 20]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startTestEndpoint, useEnv } from "../03_advanced_workers/03_calling_endpoints/test-endpoint";
import { buildApp, type UnifiedApp } from "../core/app/app";
import { LocalTarget } from "../core/remote/local/local-target";
import { setTarget } from "../core/remote/target";

const { values } = parseArgs({ options: { n: { type: "string", default: "20" } } });
const N = Math.max(1, Number(values.n) || 20);
const ROOT = resolve(import.meta.dir, "..");

type Send = (app: UnifiedApp) => Response | Promise<Response>;
const json =
  (path: string, body: unknown): Send =>
  (app) =>
    app.fetch(
      new Request(`http://localhost${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );

async function measure(label: string, category: string, example: string, send: Send): Promise<void> {
  const target = new LocalTarget();
  setTarget(target);
  const app = await buildApp({ root: ROOT, scope: { category, example } });
  const time = async () => {
    const t0 = performance.now();
    const res = await send(app);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${label}: HTTP ${res.status}`);
    return performance.now() - t0;
  };
  const cold = await time();
  const warm: number[] = [];
  for (let i = 0; i < N; i++) warm.push(await time());
  warm.sort((a, b) => a - b);
  const q = (p: number) => warm[Math.min(warm.length - 1, Math.ceil(p * warm.length) - 1)]!;
  console.log(
    `${label.padEnd(52)} cold ${cold.toFixed(0).padStart(6)} ms   warm p50 ${q(0.5).toFixed(1).padStart(7)} ms   p95 ${q(0.95).toFixed(1).padStart(7)} ms`,
  );
  await target.shutdown();
}

console.log(`bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, N=${N} warm calls each\n`);
await measure(
  "03_language_id POST /cpu/detect (1 sentence)",
  "02_ml_inference",
  "03_language_id",
  json("/02_ml_inference/03_language_id/cpu/detect", { text: "Où est la gare, s'il vous plaît ?" }),
);
await measure(
  "03_language_id POST /cpu/detect-batch (100 texts)",
  "02_ml_inference",
  "03_language_id",
  json("/02_ml_inference/03_language_id/cpu/detect-batch", {
    texts: Array.from({ length: 100 }, (_, i) => `The weather is lovely today and we go to the park, number ${i}.`),
  }),
);
await measure(
  "01_autoscaling POST /cpu/burst (128×128)",
  "04_scaling_performance",
  "01_autoscaling",
  json("/04_scaling_performance/01_autoscaling/cpu/burst", { matrix_size: 128 }),
);
await measure(
  "01_autoscaling POST /cpu/scale-to-zero (128×128)",
  "04_scaling_performance",
  "01_autoscaling",
  json("/04_scaling_performance/01_autoscaling/cpu/scale-to-zero", { matrix_size: 128 }),
);
const endpoint = await startTestEndpoint();
const restore = useEnv(endpoint.env);
const print = console.log;
console.log = (...a: unknown[]) =>
  typeof a[0] === "string" && /^sync-.*: /.test(a[0]) ? undefined : print.apply(console, a); // runpod-sdk's poll prints
await measure(
  "03_calling_endpoints POST /runsync (emulator endpoint)",
  "03_advanced_workers",
  "03_calling_endpoints",
  json("/03_advanced_workers/03_calling_endpoints/runsync", { input: { text: "hello from flash" } }),
);
console.log = print;
restore();
await endpoint.stop();
await measure(
  "01_streaming POST /gpu/generate (SSE, whole stream)",
  "03_advanced_workers",
  "01_streaming",
  json("/03_advanced_workers/01_streaming/gpu/generate", { prompt: "a stream", delay_ms: 0 }),
);
await measure(
  "01_streaming POST /gpu/complete (collected JSON)",
  "03_advanced_workers",
  "01_streaming",
  json("/03_advanced_workers/01_streaming/gpu/complete", { prompt: "a stream", seed: 8 }),
);
await measure(
  "01_streaming POST /cpu/primes (SSE, 10^6 in 4 steps)",
  "03_advanced_workers",
  "01_streaming",
  json("/03_advanced_workers/01_streaming/cpu/primes", { limit: 1_000_000, steps: 4 }),
);
// Network volumes live in a temp folder here, not in the repository's .flash/volumes.
process.env.FLASH_VOLUMES_DIR = mkdtempSync(join(tmpdir(), "flash-bench-volumes-"));
await measure(
  "01_network_volumes POST /tagger/tag (warm = cached)",
  "05_data_workflows",
  "01_network_volumes",
  json("/05_data_workflows/01_network_volumes/tagger/tag", { text: "Où est la gare, s'il vous plaît ?" }),
);
await measure("01_network_volumes GET /reader/results (LB reader)", "05_data_workflows", "01_network_volumes", (app) =>
  app.fetch(new Request("http://localhost/05_data_workflows/01_network_volumes/reader/results")),
);
rmSync(process.env.FLASH_VOLUMES_DIR, { recursive: true, force: true });
const receipt = readFileSync(resolve(ROOT, "05_data_workflows/02_document_ocr/receipt.png"));
await measure(
  "02_document_ocr POST /documents (receipt.png, 6 lines)",
  "05_data_workflows",
  "02_document_ocr",
  (app) => {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(receipt)], { type: "image/png" }), "receipt.png");
    return app.fetch(
      new Request("http://localhost/05_data_workflows/02_document_ocr/documents", { method: "POST", body: form }),
    );
  },
);
process.exit(0);
