import { Elysia, t } from "flash";
import { invalid } from "../../validation";
import { compute, gpuDeviceInfo, gpuHealth, MAX_NUMBERS } from "./endpoint";

/** GPU compute service: the load-balanced endpoint's routes, callable through the unified app. */
export const gpu_router = new Elysia()
  .get("/health", () => gpuHealth(), { detail: { summary: "Health of the GPU service" } })
  .post("/compute", ({ body }) => compute({ numbers: body.numbers }), {
    body: t.Object(
      {
        numbers: t.Array(t.Integer(), {
          description: "Whole numbers (at least one, at most a million)",
          maxItems: MAX_NUMBERS,
          examples: [[1, 2, 3, 4, 5]],
        }),
      },
      { examples: [{ numbers: [1, 2, 3, 4, 5] }] },
    ),
    beforeHandle({ body }) {
      if (body.numbers.length > 0) return undefined;
      return invalid([{ loc: ["body", "numbers"], msg: "numbers list cannot be empty", input: body.numbers }]);
    },
    detail: { summary: "Sum of squares, mean, max and min of a list of numbers" },
  })
  .get("/info", () => gpuDeviceInfo(), { detail: { summary: "The GPU the worker sees" } });
