import { Elysia, t, remote, gpuInfo, LiveServerless, GpuGroup } from "flash";

/** Where gpuHello runs: a GPU endpoint that scales from zero to three workers, stopping idle ones after 5 s. */
const gpuConfig = new LiveServerless({
  name: "{{resource_gpu}}",
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
  detail: { summary: "Say hello from a GPU worker", description: "Runs gpuHello on a GPU worker and returns its reply." },
});
