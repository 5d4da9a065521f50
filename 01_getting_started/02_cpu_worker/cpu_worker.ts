import { CpuInstanceType, CpuLiveServerless, Elysia, logger, remote, t } from "flash";

/** Where `cpuHello` runs: the smallest CPU instance Runpod's REST API v2 creates (2 vCPUs, 4 GB), scaling 0..3, idle workers stop after 5 s. */
export const cpuConfig = new CpuLiveServerless({
  name: "01_02_cpu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5, // seconds
});

/** Say hello by name from a CPU worker (the original sent `message` instead of `name`, so it always greeted "Anonymous Panda"). */
export const cpuHello = remote(cpuConfig, async (input: { name?: string }) => {
  const name = input.name?.trim() || "Anonymous Panda";
  return {
    status: "success" as const,
    message: `Hello, ${name}!`,
    worker_type: "CPU",
    timestamp: new Date().toISOString(),
    platform: process.platform,
    runtime_version: `bun ${Bun.version}`,
  };
});

/** POST /hello: greet the `name` sent from a CPU worker. */
export const cpu_router = new Elysia().post("/hello", ({ body }) => cpuHello({ name: body.name }), {
  body: t.Object(
    {
      name: t.Optional(
        t.String({ default: "Flash expert", maxLength: 200, description: "Who to greet", examples: ["Flash User"] }),
      ),
    },
    { examples: [{ name: "Flash User" }] },
  ),
  response: {
    200: t.Object({
      status: t.Literal("success"),
      message: t.String(),
      worker_type: t.String(),
      timestamp: t.String({ format: "date-time" }),
      platform: t.String(),
      runtime_version: t.String(),
    }),
  },
  detail: {
    summary: "Say hello from a CPU worker",
    description: 'Greets `name` (blank → "Anonymous Panda") and reports the worker\'s platform.',
  },
});

if (import.meta.main) {
  // `bun cpu_worker.ts` runs the function once through a worker, like the original's `__main__` test payload.
  // It calls once this module has loaded: a remote function takes its name from the module's exports.
  setTimeout(async () => {
    logger("02_cpu_worker").log(JSON.stringify(await cpuHello({ name: "Flash expert" }), null, 2));
    process.exit(0);
  }, 0);
}
