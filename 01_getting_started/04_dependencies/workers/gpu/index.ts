import { Elysia, t } from "flash";
import { processWithMlLibs, processWithSystemDeps } from "./endpoint";

// These routes take no input; an empty JSON object (or no body at all) is accepted.
const NoBody = t.Optional(t.Object({}, { examples: [{}], description: "No fields: send {} or nothing" }));

const MlReply = t.Object({
  status: t.Literal("success"),
  message: t.String(),
  dependencies: t.Array(t.String()),
  versions: t.Record(t.String(), t.String()),
  matrix_test: t.Object({ operation: t.String(), result: t.Number() }),
  gpu: t.Nullable(t.String()),
  timestamp: t.String({ format: "date-time" }),
});
const SystemReply = t.Object({
  status: t.Union([t.Literal("success"), t.Literal("missing")]),
  message: t.String(),
  system_dependencies: t.Array(t.String()),
  ffmpeg_available: t.Boolean(),
  ffmpeg_version: t.String(),
  timestamp: t.String({ format: "date-time" }),
});

/** GPU routes: functions with npm dependencies and with system dependencies. */
export const gpu_router = new Elysia()
  .post("/ml-deps", () => processWithMlLibs(), {
    body: NoBody,
    response: { 200: MlReply },
    detail: { summary: "Report the versions of the npm packages the worker was given (ml-matrix) and use them" },
  })
  .post(
    "/system-deps",
    async ({ set }) => {
      const reply = await processWithSystemDeps();
      // A declared system package that is absent makes the service unusable: 503, not a 200 that says "missing".
      if (reply.status === "missing") set.status = 503;
      return reply;
    },
    {
      body: NoBody,
      response: { 200: SystemReply, 503: SystemReply },
      detail: { summary: "Report the system package the worker was given (ffmpeg -version); 503 when it is missing" },
    },
  );
