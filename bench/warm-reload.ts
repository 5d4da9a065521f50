/**
 * Models stay warm across edits (issue 12, item 4): `flash run --watch` on a copy of the OCR example, models loaded
 * by a first call; then --edits saves of the route module (gpu_worker.ts, which the bench gives a small remote
 * function and route returning a version), each timed from the write to the first answer of the new version from the
 * same warm worker pool, followed by an OCR call that must still find its models loaded (the model load count, from
 * each answer's `cold_start`, stays 1). Printed beside the cold
 * first call (what a restart-based reload, uvicorn's or Modal's, pays again after each save), and a save of the
 * module that loads the models (ocr.ts), which must load them again.
 *
 *   bun bench/warm-reload.ts [--edits 10] [--tree head|worktree]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO, engine, selectEngine } from "./lib/engine";
import { startTimed, stopProcess } from "./lib/proc";
import { flashSource } from "./lib/servers";
import { max, median, ms, verdict } from "./lib/stats";
import { copyWorkspace } from "./lib/workspace";

const { values: opts } = parseArgs({
  options: { edits: { type: "string", default: "10" }, tree: { type: "string", default: "head" } },
});
selectEngine(opts.tree!);
const edits = Number(opts.edits);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}; flash: ${engine.label}`,
);

const ws = copyWorkspace(REPO);
const dir = join(ws.ts, "02_ml_inference/02_ocr");
const workerFile = join(dir, "gpu_worker.ts");
const modelFile = join(dir, "ocr.ts");
const original = readFileSync(workerFile, "utf8");
if (!/export const gpu_router\b/.test(original))
  throw new Error("gpu_worker.ts exports no gpu_router; update the bench");
// Appended: a remote function on the OCR config (so it runs on the same workers) and a route that calls it.
const versioned = (v: string) =>
  `${original}\nexport const benchVersion = remote(gpuConfig, async () => "${v}");\n` +
  `gpu_router.get("/bench-version", () => benchVersion());\n`;
writeFileSync(workerFile, versioned("v0"));

const server = await startTimed(flashSource(dir, true));
const image = readFileSync(join(dir, "sample.png")).toString("base64");
const ocr = async () => {
  const res = await fetch(`${server.url}/02_ml_inference/02_ocr/gpu/ocr`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ image_base64: image }),
  });
  const body = (await res.json()) as { lines?: unknown[]; cold_start?: boolean };
  if (body.cold_start) modelLoads++;
  return body;
};
/** How many OCR answers said their call loaded the models (`cold_start`): the model load count. */
let modelLoads = 0;
const version = async () => (await fetch(`${server.url}/02_ml_inference/02_ocr/gpu/bench-version`)).text();

try {
  let t = performance.now();
  const cold = await ocr();
  const coldMs = performance.now() - t;
  if (!Array.isArray(cold.lines)) throw new Error(`unexpected first answer: ${JSON.stringify(cold).slice(0, 200)}`);
  if ((await version()) !== "v0") throw new Error("the bench route does not answer v0");
  t = performance.now();
  await ocr();
  const warmCallMs = performance.now() - t;

  const saves: number[] = [];
  const afterSave: number[] = [];
  for (let i = 1; i <= edits; i++) {
    await Bun.sleep(300); // let the previous reload settle, as between two real saves
    const v = `v${i}`;
    const started = performance.now();
    writeFileSync(workerFile, versioned(v));
    while ((await version()) !== v) await Bun.sleep(1);
    saves.push(performance.now() - started);
    t = performance.now();
    await ocr(); // still warm: the models' module did not change
    afterSave.push(performance.now() - t);
  }
  const loadsAfterSaves = modelLoads;

  await Bun.sleep(300);
  writeFileSync(modelFile, `${readFileSync(modelFile, "utf8")}\n// bench edit\n`);
  // The answer does not change; wait for the reload, then time the call that loads the models again.
  await Bun.sleep(500);
  const t2 = performance.now();
  await ocr();
  const reloadModelMs = performance.now() - t2;

  const rows: [string, string][] = [
    ["first OCR call (cold: models load)", ms(coldMs)],
    ["second OCR call (warm)", ms(warmCallMs)],
    [`save gpu_worker.ts → new answer, median of ${edits}`, ms(median(saves))],
    [`save gpu_worker.ts → new answer, max of ${edits}`, ms(max(saves))],
    ["OCR call after each save (models still loaded), median", ms(median(afterSave))],
    ["call after saving ocr.ts (the models' module: they load again)", ms(reloadModelMs)],
    [`model loads: first call, then across the ${edits} saves of gpu_worker.ts`, String(loadsAfterSaves)],
    ["model loads after the save of ocr.ts", String(modelLoads)],
  ];
  for (const [what, figure] of rows) console.log(`${what.padEnd(66)} ${figure}`);
  console.log(`${verdict(median(saves) <= 100)}  save → new answer with the models loaded ≤ 100 ms (median)`);
  console.log(`${verdict(median(saves) < coldMs)}  a save costs less than the cold start a restart pays again`);
  console.log(`${verdict(median(afterSave) < coldMs / 2)}  the models stay loaded across saves of the route module`);
  console.log(
    `${verdict(loadsAfterSaves === 1)}  the models loaded once across ${edits} saves (load count ${loadsAfterSaves})`,
  );
} finally {
  await stopProcess(server.proc);
  ws.cleanup();
}
