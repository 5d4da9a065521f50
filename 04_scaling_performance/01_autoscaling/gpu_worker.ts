import { Elysia, remote } from "flash";
import { gpuAlwaysOn, gpuHighThroughput, gpuScaleToZero } from "./strategies";
import { MATRIX, route, runWork } from "./work";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work at import time.

/** The work on the GPU scale-to-zero config. */
export const scaleToZeroWork = remote(gpuScaleToZero, async (size: number) =>
  runWork("gpu_scale_to_zero", gpuScaleToZero, size),
);

/** The work on the GPU always-on config. */
export const alwaysOnWork = remote(gpuAlwaysOn, async (size: number) => runWork("gpu_always_on", gpuAlwaysOn, size));

/** The work on the GPU high-throughput config. */
export const highThroughputWork = remote(gpuHighThroughput, async (size: number) =>
  runWork("gpu_high_throughput", gpuHighThroughput, size),
);

/** POST /scale-to-zero, /always-on, /high-throughput: the same work on three GPU scaling strategies. */
export const gpu_router = new Elysia()
  .post(
    "/scale-to-zero",
    ({ body }) => scaleToZeroWork(body.matrix_size ?? MATRIX.default),
    route("GPU, 0–3 workers, idle 300 s"),
  )
  .post(
    "/always-on",
    ({ body }) => alwaysOnWork(body.matrix_size ?? MATRIX.default),
    route("GPU, 1–3 workers (one always warm)"),
  )
  .post(
    "/high-throughput",
    ({ body }) => highThroughputWork(body.matrix_size ?? MATRIX.default),
    route("GPU, 2–10 workers, scaled by request count"),
  );
