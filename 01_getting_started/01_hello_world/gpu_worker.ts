import { Elysia, t, gpuInfo, remote, LiveServerless, GpuGroup } from "flash";

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
    status: "success",
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
  detail: {
    summary: "Say hello from a GPU worker",
    description: "Returns the message and the GPU facts of the worker that ran it.",
  },
});

if (import.meta.main) {
  // `bun gpu_worker.ts` runs the function once through a worker, like the original's `__main__` test payload.
  console.log(await gpuHello({ message: "Testing GPU worker" }));
  process.exit(0);
}
