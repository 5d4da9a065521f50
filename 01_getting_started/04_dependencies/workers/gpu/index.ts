import { Elysia, t } from "flash";
import { processWithMlLibs, processWithSystemDeps } from "./endpoint";

// These routes take no input; an empty JSON object (or no body at all) is accepted.
const NoBody = t.Optional(t.Object({}, { examples: [{}], description: "No fields: send {} or nothing" }));

/** GPU routes: functions with npm dependencies and with system dependencies. */
export const gpu_router = new Elysia()
  .post("/ml-deps", () => processWithMlLibs(), {
    body: NoBody,
    detail: { summary: "Report the versions of the npm packages the worker was given (ml-matrix) and use them" },
  })
  .post("/system-deps", () => processWithSystemDeps(), {
    body: NoBody,
    detail: { summary: "Report the system package the worker was given (ffmpeg -version), or that it is missing" },
  });
