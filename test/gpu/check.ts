/**
 * The GPU check of issues 4 and 6, for a machine with a GPU (run it there with `bun test/gpu/check.ts`; it also runs,
 * and says so, on a machine without one). It prints one JSON report:
 *   - the GPUs flash detects (`nvidia-smi`);
 *   - CUDA_VISIBLE_DEVICES pinning across two concurrent workers of one GPU config (gpuCount 1 each);
 *   - 01_hello_world's GPU facts through the unified app;
 *   - the OCR example's execution provider (`cuda` needs onnxruntime-node's CUDA files: see its README).
 * Not a test file (bun test skips it): it needs a GPU to say anything interesting.
 */
import { join } from "node:path";
import { buildApp } from "../../core/app/app";
import { listGpus } from "../../core/base/gpu";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";
import { whereAmI } from "./pinned";

const ROOT = join(import.meta.dir, "../..");
const target = new LocalTarget();
setTarget(target);
const report: Record<string, unknown> = { gpus: listGpus() };

try {
  const [a, b] = await Promise.all([whereAmI(1500), whereAmI(1500)]);
  report.pinning = {
    workers: [a, b],
    distinctWorkers: a.pid !== b.pid,
    distinctDevices: a.CUDA_VISIBLE_DEVICES !== b.CUDA_VISIBLE_DEVICES,
  };

  const app = await buildApp({ root: ROOT, scope: { category: "01_getting_started", example: "01_hello_world" } });
  const hello = await app.fetch(
    new Request("http://localhost/01_getting_started/01_hello_world/gpu/hello", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "GPU check" }),
    }),
  );
  report.hello_world = { status: hello.status, body: await hello.json() };

  const ocrApp = await buildApp({ root: ROOT, scope: { category: "02_ml_inference", example: "02_ocr" } });
  const sample = await Bun.file(join(ROOT, "02_ml_inference/02_ocr/sample.png")).arrayBuffer();
  const ocr = await ocrApp.fetch(
    new Request("http://localhost/02_ml_inference/02_ocr/gpu/ocr", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ image_base64: Buffer.from(sample).toString("base64") }),
    }),
  );
  const ocrBody = (await ocr.json()) as Record<string, unknown>;
  report.ocr = {
    status: ocr.status,
    execution_provider: ocrBody.execution_provider,
    provider_note: ocrBody.provider_note,
    lines: Array.isArray(ocrBody.lines) ? ocrBody.lines.length : ocrBody,
  };
} catch (err) {
  report.error = String((err as Error)?.stack ?? err);
} finally {
  await target.shutdown();
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(report.error ? 1 : 0);
