/** What job input the Runpod worker program accepts, and how it builds the platform's URLs. */
import { describe, expect, test } from "bun:test";
import { parseShippedCall, runCall, withQuery } from "../../../worker/main";

describe("job input", () => {
  const bundle = { path: "01_a/01_b/x.ts", hash: "0123456789abcdef", code: "export {}" };
  const request = { module: "01_a/01_b/x.ts", name: "x", executionType: "function", args: [] };

  test("a flash call is accepted bare or wrapped in {input}", () => {
    expect(parseShippedCall({ flash: 1, bundle, request }).bundle.path).toBe("01_a/01_b/x.ts");
    expect(parseShippedCall({ input: { flash: 1, bundle, request } }).request.name).toBe("x");
  });

  test("anything else is an InputError (400), never a crash", async () => {
    expect(() => parseShippedCall({ hello: 1 })).toThrow("not a flash call");
    expect(() => parseShippedCall({ flash: 1, bundle: { ...bundle, path: "../../etc/passwd" }, request })).toThrow(
      "stay inside",
    );
    expect(() => parseShippedCall({ flash: 1, bundle: { ...bundle, hash: "NOT HEX" }, request })).toThrow("bundle");
    expect(() => parseShippedCall({ flash: 1, bundle, request: { id: "0" } })).toThrow("FunctionRequest");
    const res = await runCall({ nope: true });
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ name: "InputError", status: 400 });
  });

  test("platform URLs get query parameters whether or not they have a query string", () => {
    expect(withQuery("http://x/job-take/w?gpu=A", { job_in_progress: "0" })).toBe(
      "http://x/job-take/w?gpu=A&job_in_progress=0",
    );
    expect(withQuery("http://x/job-take/w", { job_in_progress: "1" })).toBe("http://x/job-take/w?job_in_progress=1");
  });
});
