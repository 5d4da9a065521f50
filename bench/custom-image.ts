/**
 * Cold start of 03_advanced_workers/04_custom_images on the Runpod emulator: the first call of a cold endpoint to its
 * answer, then warm calls, through the unified app (HTTP route → remote() → emulator → worker), one fresh emulator
 * per case:
 *   - stock image, empty worker cache: flash's bootstrap (Bun installed into the GPU image from the emulator's copy of
 *     the release zip), the worker program sent with the first call, `bun add` of the function's dependencies (Bun's
 *     package cache on this machine; the registry is asked for metadata);
 *   - stock image, dependencies already in the worker cache (as on a network volume after a first worker);
 *   - custom image: the image's command (handler.ts) mapped as `flash emulator --image` does; nothing to install.
 * No image pull and no GPU: those are not measurable here (the README says so).
 *
 *   bun bench/custom-image.ts [--n 5] [--no-install]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildApp } from "../core/app/app";
import { setLogLevel } from "../core/base/log";
import { EmulatorTarget } from "../core/emulator/emulator-target";
import { emulatorKey, startEmulator } from "../core/emulator/server";
import { setTarget, type Target } from "../core/remote/target";
import { OfflineEmulatorTarget } from "../test/helpers/emulator";
import { IMAGE } from "../03_advanced_workers/04_custom_images/gpu_worker";
import { median } from "./lib/stats";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: process.env.BENCH_N ?? "5" },
    "no-install": { type: "boolean", default: false },
  },
});
const N = Math.max(1, Number(values.n) || 5);
const ROOT = resolve(import.meta.dir, "..");
const EXAMPLE = join(ROOT, "03_advanced_workers/04_custom_images");
const images = { [IMAGE]: [process.execPath, "--no-install", join(EXAMPLE, "handler.ts")] };
setLogLevel("quiet");

/** An emulator target whose worker cache starts empty (workers install their dependencies themselves). */
function emptyCacheTarget(tmp: string): Target {
  const apiKey = emulatorKey();
  const emulator = startEmulator({
    apiKey,
    retireGraphql: true,
    workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache") }, volumesDir: join(tmp, "volumes"), images },
  });
  return new EmulatorTarget(emulator, { apiKey, root: ROOT, statePath: join(tmp, "resources.json") });
}

async function measure(label: string, route: "custom" | "stock", make: (tmp: string) => Target): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "flash-bench-image-"));
  const target = make(tmp);
  setTarget(target);
  try {
    const app = await buildApp({ root: ROOT, scope: { category: "03_advanced_workers", example: "04_custom_images" } });
    const call = async () => {
      const t0 = performance.now();
      const res = await app.fetch(
        new Request(`http://localhost/03_advanced_workers/04_custom_images/gpu/${route}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ provider: "auto" }),
        }),
      );
      const body = (await res.json()) as { load_ms?: number; message?: string };
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      return { ms: performance.now() - t0, loadMs: body.load_ms ?? 0 };
    };
    const cold = await call();
    const warm: number[] = [];
    for (let i = 0; i < N; i++) warm.push((await call()).ms);
    console.log(
      `  ${label.padEnd(46)} cold ${cold.ms.toFixed(0).padStart(6)} ms (model load ${String(cold.loadMs).padStart(4)} ms)` +
        `   warm p50 ${median(warm).toFixed(1).padStart(6)} ms`,
    );
  } finally {
    await target.shutdown();
    rmSync(tmp, { recursive: true, force: true });
  }
}

console.log(`custom image vs stock image on the emulator (first call of a cold endpoint; ${N} warm calls each)`);
if (!values["no-install"]) {
  await measure("stock image, bootstrap + bun add (empty cache)", "stock", emptyCacheTarget);
}
await measure(
  "stock image, bootstrap, packages cached",
  "stock",
  (tmp) => new OfflineEmulatorTarget(ROOT, join(tmp, "v"), images),
);
await measure(
  "custom image (--image → handler.ts)",
  "custom",
  (tmp) => new OfflineEmulatorTarget(ROOT, join(tmp, "v"), images),
);
process.exit(0);
