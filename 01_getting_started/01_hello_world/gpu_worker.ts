import { Elysia, t, gpuInfo, logger, remote, LiveServerless, GpuGroup } from "flash";

/** Where `gpuHello` runs: a live GPU endpoint that scales from 0 to 3 workers, each stopped after 5 s idle. */
const gpuConfig = new LiveServerless({
  name: "01_01_hello_world_gpu",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
});

/** The remote function: reports the GPU it runs on (or `available: false` with no GPU). */
export const gpuHello = remote(gpuConfig, async (input: { message?: string }) => {
  return {
    status: "success" as const,
    message: input.message ?? "Hello from GPU worker!",
    worker_type: "GPU",
    gpu_info: gpuInfo(),
    timestamp: new Date().toISOString(),
    platform: process.platform,
    runtime_version: `bun ${Bun.version}`,
  };
});

/** POST /hello: say hello from a GPU worker. */
export const gpu_router = new Elysia().post("/hello", ({ body }) => gpuHello({ message: body.message }), {
  body: t.Object({
    message: t.String({ default: "Hello from GPU!", examples: ["Hello GPU!"], maxLength: 10_000 }),
  }),
  response: {
    200: t.Object({
      status: t.Literal("success"),
      message: t.String(),
      worker_type: t.String(),
      gpu_info: t.Object({
        available: t.Boolean(),
        name: t.Nullable(t.String()),
        count: t.Integer(),
        memory_gb: t.Number(),
        visible_devices: t.Nullable(t.String()),
      }),
      timestamp: t.String({ format: "date-time" }),
      platform: t.String(),
      runtime_version: t.String(),
    }),
  },
  detail: {
    summary: "Say hello from a GPU worker",
    description: "Returns the message and the GPU facts of the worker that ran it.",
  },
});

if (import.meta.main) {
  // `bun gpu_worker.ts` runs the function once through a worker, like the original's `__main__` test payload.
  // It calls once this module has loaded: a remote function takes its name from the module's exports.
  setTimeout(async () => {
    logger("01_hello_world").log(JSON.stringify(await gpuHello({ message: "Testing GPU worker" }), null, 2));
    process.exit(0);
  }, 0);
}
