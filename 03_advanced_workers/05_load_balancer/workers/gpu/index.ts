import { Elysia, t } from "flash";
import { invalid } from "../../validation";
import { compute, gpuDeviceInfo, gpuHealth, MAX_NUMBERS } from "./endpoint";

const Health = t.Object({ status: t.String(), service: t.String() });
const ComputeReply = t.Object({
  status: t.Literal("success"),
  input_count: t.Integer(),
  sum_of_squares: t.Integer(),
  mean: t.Number(),
  max: t.Integer(),
  min: t.Integer(),
  compute_time_ms: t.Number(),
  timestamp: t.String({ format: "date-time" }),
});
const DeviceInfo = t.Object({ available: t.Boolean(), device: t.Nullable(t.String()), count: t.Integer() });

/** GPU compute service: the load-balanced endpoint's routes, callable through the unified app. */
export const gpu_router = new Elysia()
  .get("/health", () => gpuHealth(), { response: { 200: Health }, detail: { summary: "Health of the GPU service" } })
  .post("/compute", ({ body }) => compute({ numbers: body.numbers }), {
    body: t.Object(
      {
        numbers: t.Array(t.Integer({ error: "each number must be a whole number (1.5 is not; send [1, 2, 3])" }), {
          description: "Whole numbers (at least one, at most a million)",
          maxItems: MAX_NUMBERS,
          examples: [[1, 2, 3, 4, 5]],
          error: `numbers must be a list of at most ${MAX_NUMBERS} whole numbers, like [1, 2, 3]`,
        }),
      },
      { examples: [{ numbers: [1, 2, 3, 4, 5] }] },
    ),
    response: { 200: ComputeReply },
    beforeHandle({ body }) {
      if (body.numbers.length > 0) return undefined;
      return invalid([{ loc: ["body", "numbers"], msg: "numbers list cannot be empty", input: body.numbers }]); // a 422 Response
    },
    detail: { summary: "Sum of squares, mean, max and min of a list of numbers" },
  })
  .get("/info", () => gpuDeviceInfo(), {
    response: { 200: DeviceInfo },
    detail: { summary: "The GPU the worker sees" },
  });
