import { Elysia, remote, t } from "flash";
import { gpuAlwaysOn, gpuHighThroughput, gpuScaleToZero } from "./strategies";
import { MATRIX, runWork } from "./work";

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

/** The body every strategy route takes. */
export const WorkBody = t.Object(
  {
    matrix_size: t.Optional(
      t.Integer({
        minimum: MATRIX.min,
        maximum: MATRIX.max,
        default: MATRIX.default,
        description: `n for an n×n matrix product (${MATRIX.min}–${MATRIX.max})`,
        error: `matrix_size must be a whole number from ${MATRIX.min} to ${MATRIX.max}`,
      }),
    ),
  },
  { examples: [{ matrix_size: 64 }] },
);

/** What every strategy route answers. */
export const WorkReply = t.Object({
  strategy: t.String(),
  matrix_size: t.Integer(),
  checksum: t.Number(),
  compute_ms: t.Number(),
  config: t.Object({
    name: t.String(),
    kind: t.String(),
    workers_min: t.Integer(),
    workers_max: t.Integer(),
    idle_timeout_s: t.Number(),
    scaler_type: t.String(),
    scaler_value: t.Number(),
    execution_timeout_ms: t.Number(),
  }),
});

const route = (summary: string) => ({ body: WorkBody, response: { 200: WorkReply }, detail: { summary } });

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
