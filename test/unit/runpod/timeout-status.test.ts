// A Runpod (or emulator) job that timed out answers 504, as a local call past executionTimeoutMs does.
import { expect, test } from "bun:test";
import { statusOf } from "../../../core/base/errors";
import { RemoteError } from "../../../core/remote/errors";
import { responseOf } from "../../../core/runpod/jobs";

test("a TIMED_OUT job is a TimeoutError with status 504; a FAILED one stays a 500", () => {
  const timedOut = responseOf({ id: "job-1", status: "TIMED_OUT" }, "slow");
  expect(timedOut.error).toMatchObject({ name: "TimeoutError", status: 504 });
  expect(statusOf(new RemoteError("slow", timedOut.error!))).toBe(504);
  const failed = responseOf({ id: "job-2", status: "FAILED", error: "boom" }, "broken");
  expect(statusOf(new RemoteError("broken", failed.error!))).toBe(500);
});
