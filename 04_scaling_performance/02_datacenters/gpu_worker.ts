import { Elysia, t, remote, gpuInfo, LiveServerless, GpuGroup } from "flash";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work (model loads) at import time. Load models lazily on the first call, behind a module-level promise.

/** Where gpuHello runs: a GPU endpoint that scales from zero to three workers, stopping idle ones after 5 s. */
const gpuConfig = new LiveServerless({
  name: "04_02_gpu",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
});

/** The remote function: runs on a GPU worker and reports the GPU it found (`available: false` without one). */
export const gpuHello = remote(gpuConfig, async (input: { message: string }) => ({
  status: "success",
  message: input.message,
  worker_type: "GPU",
  gpu_info: gpuInfo(),
  timestamp: new Date().toISOString(),
  runtime_version: `bun ${Bun.version}`,
}));

/** POST /hello: say hello from a GPU worker. */
export const gpu_router = new Elysia().post("/hello", ({ body }) => gpuHello({ message: body.message }), {
  body: t.Object({
    message: t.String({ default: "Hello from GPU!", examples: ["Hello GPU!"], minLength: 1, maxLength: 10_000 }),
  }),
  response: {
    200: t.Object({
      status: t.String(),
      message: t.String(),
      worker_type: t.String(),
      gpu_info: t.Object({ available: t.Boolean() }, { additionalProperties: true }),
      timestamp: t.String(),
      runtime_version: t.String(),
    }),
  },
  detail: { summary: "Say hello from a GPU worker", description: "Runs gpuHello on a GPU worker and returns its reply." },
});
