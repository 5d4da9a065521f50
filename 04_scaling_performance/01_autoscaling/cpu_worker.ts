import { Elysia, remote, t } from "flash";
import { cpuBurst, cpuScaleToZero, STRATEGIES } from "./strategies";
import { configFacts, MATRIX, route, runWork, WorkReply } from "./work";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work at import time.

/** The work on the CPU scale-to-zero config. */
export const cpuScaleToZeroWork = remote(cpuScaleToZero, async (size: number) =>
  runWork("cpu_scale_to_zero", cpuScaleToZero, size),
);

/** The work on the CPU burst config. */
export const burstWork = remote(cpuBurst, async (size: number) => runWork("cpu_burst", cpuBurst, size));

const StrategiesReply = t.Object({
  strategies: t.Array(t.Object({ route: t.String(), use_when: t.String(), config: WorkReply.properties.config })),
});

/** POST /scale-to-zero, /burst: two CPU strategies; GET /strategies: all five, with when to use each. */
export const cpu_router = new Elysia()
  .post(
    "/scale-to-zero",
    ({ body }) => cpuScaleToZeroWork(body.matrix_size ?? MATRIX.default),
    route("CPU, 0–5 workers, idle 1 s"),
  )
  .post(
    "/burst",
    ({ body }) => burstWork(body.matrix_size ?? MATRIX.default),
    route("CPU, 1–10 workers (one always warm), idle 30 s"),
  )
  .get(
    "/strategies",
    () => ({
      strategies: STRATEGIES.map((s) => ({ route: s.route, use_when: s.use_when, config: configFacts(s.config) })),
    }),
    {
      response: { 200: StrategiesReply },
      detail: { summary: "The five strategies, their settings and when to use each" },
    },
  );
