import { Elysia, t, gpuInfo } from "flash";

/** The remote function: reports the GPU it runs on (or `available: false` with no GPU). */
export async function gpuHello(input: { message?: string }) {
  return {
    status: "success",
    message: input.message ?? "Hello from GPU worker!",
    worker_type: "GPU",
    gpu_info: gpuInfo(),
    timestamp: new Date().toISOString(),
    platform: process.platform,
    runtime_version: `bun ${Bun.version}`,
  };
}

/** POST /hello: say hello from a GPU worker. */
export const gpu_router = new Elysia().post(
  "/hello",
  ({ body }) => gpuHello({ message: body.message }),
  {
    body: t.Object({
      message: t.String({ default: "Hello from GPU!", examples: ["Hello GPU!"], maxLength: 10_000 }),
    }),
    detail: { summary: "Say hello from a GPU worker", description: "Returns the message and the GPU facts of the worker that ran it." },
  },
);
