import { Elysia, GpuGroup, LiveServerless, remote, t, validationError } from "flash";
import { checkImage, fromBase64, MAX_IMAGE_BYTES, MAX_SIDE, MIN_SIDE } from "./image";
import { SAMPLE_PNG_BASE64 } from "./sample";
import { SCALE, UPSCALE_DEPENDENCIES, upscale, type UpscaleRequest } from "./upscale";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no model
// load at import time (the /docs example image is sample.ts). upscale.ts loads the model on a worker's first call.

/**
 * A GPU endpoint, as an image model usually wants; but TensorFlow.js runs this model on the worker's CPU (WebAssembly)
 * even there, and every reply's `backend_note` says so. Without a custom image that bakes a CUDA backend, a CPU
 * endpoint (`CpuLiveServerless`) is the cheaper home: the README's Cost notes say how to switch.
 */
export const gpuConfig = new LiveServerless({
  name: "02_04_image_upscaling_gpu",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 30,
  // wasm (default) or cpu: which TensorFlow.js backend the workers use; both run on the CPU.
  env: { UPSCALE_BACKEND: process.env.UPSCALE_BACKEND ?? "wasm" },
});

/** The remote function: upscale one image 2×. The model loads on a worker's first call and stays loaded. */
export const upscaleImage = remote(gpuConfig, async (req: UpscaleRequest) => upscale(req), {
  dependencies: UPSCALE_DEPENDENCIES,
});

const LIMITS = `a PNG or JPEG of ${MIN_SIDE}–${MAX_SIDE} pixels a side, at most ${MAX_IMAGE_BYTES / 1024 / 1024} MB`;

const UpscaleBody = t.Object(
  {
    image_base64: t.String({
      minLength: 1,
      // base64 is 4/3 of the bytes; a little slack for a data-URL prefix and line breaks
      maxLength: Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 1024,
      description: `${LIMITS}, base64-encoded. A \`data:image/png;base64,\` prefix is accepted.`,
      examples: [SAMPLE_PNG_BASE64],
      error: `image_base64 must be a non-empty base64 string of at most ${MAX_IMAGE_BYTES} bytes once decoded`,
    }),
  },
  { examples: [{ image_base64: SAMPLE_PNG_BASE64 }] },
);

const Size = { width: t.Integer(), height: t.Integer() };
const UpscaleReply = t.Object({
  status: t.Literal("success"),
  image_base64: t.String({ description: "the upscaled image, a PNG, base64-encoded" }),
  input: t.Object({ format: t.Union([t.Literal("png"), t.Literal("jpeg")]), ...Size }),
  output: t.Object({ format: t.Literal("png"), ...Size, bytes: t.Integer() }),
  scale: t.Integer({ description: "how much larger each side is" }),
  model: t.String(),
  backend: t.Union([t.Literal("wasm"), t.Literal("cpu")], {
    description: "the TensorFlow.js backend that ran the model; both run on the CPU",
  }),
  backend_note: t.Nullable(t.String({ description: "why a GPU goes unused, or why the fallback backend ran" })),
  upscale_ms: t.Number({ description: "time on the worker: decode, model, encode (model load excluded)" }),
  cold_start: t.Boolean({ description: "true when this call loaded the model" }),
  timestamp: t.String({ format: "date-time" }),
});

/** A refused image as a 422 that names its field (the message from checkImage). */
function refuse(field: string, msg: string, input?: string): Response {
  return validationError([{ loc: ["body", field], msg, input }]);
}

/** POST /upscale (JSON, base64 in and out) and POST /upscale/image (an upload in, PNG bytes out). */
export const gpu_router = new Elysia()
  .post(
    "/upscale",
    ({ body }) => {
      const bytes = fromBase64(body.image_base64);
      if (!bytes) return refuse("image_base64", "image_base64 is not valid base64") as never;
      const checked = checkImage(bytes);
      if (typeof checked === "string") return refuse("image_base64", checked) as never;
      return upscaleImage(body);
    },
    {
      body: UpscaleBody,
      response: { 200: UpscaleReply },
      detail: {
        summary: "Upscale an image 2× (JSON, base64 in and out)",
        description:
          `ESRGAN super-resolution: ${LIMITS}, in; a PNG ${SCALE}× as wide and tall, out. Not valid base64, not a ` +
          "PNG/JPEG, or out of those limits is a 422 that names `image_base64`.",
      },
    },
  )
  .post(
    "/upscale/image",
    async ({ body }) => {
      const file = body.file;
      const bytes = new Uint8Array(await file.arrayBuffer());
      const checked = checkImage(bytes);
      if (typeof checked === "string") return refuse("file", checked, file.name) as never;
      const result = await upscaleImage({ image_base64: Buffer.from(bytes).toString("base64") });
      return new Response(Buffer.from(result.image_base64, "base64"), {
        headers: {
          "content-type": "image/png",
          "content-disposition": "attachment; filename=upscaled.png",
          "x-width": String(result.output.width),
          "x-height": String(result.output.height),
          "x-backend": result.backend,
          "x-upscale-ms": String(result.upscale_ms),
        },
      });
    },
    {
      body: t.Object({
        // Type and size are checked in the handler, by content, so the message says what is wrong with the file.
        file: t.File({ description: LIMITS, error: `file must be ${LIMITS} (multipart field "file")` }),
      }),
      detail: {
        summary: "Upscale an image 2× (upload in, PNG out)",
        description:
          'Send the image as multipart/form-data in the field "file" (`curl -F file=@photo.png`); the response is ' +
          "the upscaled PNG itself (`image/png`), ready for `curl --output`. A missing file, another type or an " +
          "image out of the limits is a 422 that names `file`; a JSON body is a 422, any other body a 415.",
        responses: {
          200: {
            description: "The upscaled image",
            content: { "image/png": { schema: { type: "string", format: "binary" } } },
          },
        },
      },
    },
  );
