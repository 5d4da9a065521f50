import { describe, expect, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { statusOf } from "../../core/base/errors";
import { listGpus } from "../../core/base/gpu";
import { RemoteError } from "../../core/remote/errors";
import { applyOperation, cpuConfig, pyTitle, transform, validate } from "./workers/cpu/endpoint";
import { compute, gpuConfig, MAX_NUMBERS } from "./workers/gpu/endpoint";
import { mothership } from "./mothership";

const ex = exampleHarness(import.meta.dir);
const { call, pool } = ex;

describe("load-balancer configs", () => {
  test("GPU and CPU load balancers with the original's names and warm worker", () => {
    expect(ex.app.errors).toEqual([]);
    expect(gpuConfig.kind).toBe("LiveLoadBalancer");
    expect(gpuConfig.isLoadBalancer).toBe(true);
    expect([gpuConfig.name, gpuConfig.workersMin]).toEqual(["03_05_gpu", 1]);
    expect(cpuConfig.kind).toBe("CpuLiveLoadBalancer");
    expect([cpuConfig.name, cpuConfig.workersMin]).toEqual(["03_05_cpu", 0]);
  });
});

describe("GPU service", () => {
  test("GET /gpu/health", async () => {
    expect(await call("GET", "/gpu/health")).toEqual({ status: 200, body: { status: "healthy", service: "gpu" } });
  });

  test("POST /gpu/compute: sum of squares, mean, max, min", async () => {
    const { status, body } = await call("POST", "/gpu/compute", { numbers: [1, 2, 3, 4, 5] });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "success", input_count: 5, sum_of_squares: 55, mean: 3, max: 5, min: 1 });
    expect(body.compute_time_ms).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false);
    const negatives = await call("POST", "/gpu/compute", { numbers: [-4, 2, 7] });
    expect(negatives.body).toMatchObject({ input_count: 3, sum_of_squares: 69, max: 7, min: -4 });
    expect(negatives.body.mean).toBeCloseTo(5 / 3, 10);
  });

  test("a million numbers (the schema's maxItems) are computed; one more is a 422", async () => {
    const numbers = Array.from({ length: MAX_NUMBERS }, (_, i) => i % 1000);
    const { status, body } = await call("POST", "/gpu/compute", { numbers });
    expect(status).toBe(200);
    expect(body).toMatchObject({ input_count: MAX_NUMBERS, max: 999, min: 0 });
    const over = await call("POST", "/gpu/compute", { numbers: [...numbers, 1] });
    expect(over.status).toBe(422);
    expect(JSON.stringify(over.body).length).toBeLessThan(2000); // the 422 does not echo a million numbers
  }, 60_000);

  test("an empty numbers list is a 422 with the original's message", async () => {
    const { status, body } = await call("POST", "/gpu/compute", { numbers: [] });
    expect(status).toBe(422);
    expect(body.detail).toEqual([
      { loc: ["body", "numbers"], msg: "numbers list cannot be empty", type: "value_error", input: [] },
    ]);
  });

  test("non-integers and a missing list are 422s naming the field, in plain words", async () => {
    const fractional = await call("POST", "/gpu/compute", { numbers: [1.5, 2] });
    expect(fractional.status).toBe(422);
    expect(fractional.body.detail[0]).toMatchObject({
      loc: ["body", "numbers", 0],
      msg: "each number must be a whole number (1.5 is not; send [1, 2, 3])",
      input: 1.5,
    });
    expect(fractional.body.message).not.toContain("should be one of");
    const missing = await call("POST", "/gpu/compute", {});
    expect(missing.status).toBe(422);
    expect(missing.body.detail[0].loc).toEqual(["body", "numbers"]);
  });

  test("/docs/json declares the reply of every route", async () => {
    const doc = await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json();
    const prefix = "/03_advanced_workers/05_load_balancer";
    for (const [path, method] of [
      ["/gpu/health", "get"],
      ["/gpu/compute", "post"],
      ["/gpu/info", "get"],
      ["/cpu/health", "get"],
      ["/cpu/validate", "post"],
      ["/cpu/transform", "post"],
    ] as const) {
      expect(doc.paths[prefix + path][method].responses["200"].content["application/json"].schema).toBeDefined();
    }
  });

  test("GET /gpu/info reports the GPUs nvidia-smi lists (none here: available false)", async () => {
    const { status, body } = await call("GET", "/gpu/info");
    expect(status).toBe(200);
    const gpus = listGpus();
    if (gpus.length === 0) expect(body).toEqual({ available: false, device: "No GPU", count: 0 });
    else expect(gpus.map((g) => g.name)).toContain(body.device);
  });

  test("called directly, compute rejects an empty list with an InputError that maps to 400", async () => {
    const error = await compute({ numbers: [] }).catch((e) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe("InputError");
    expect(error.message).toBe("numbers list cannot be empty");
    expect(statusOf(error)).toBe(400);
  });
});

describe("CPU service", () => {
  test("GET /cpu/health", async () => {
    expect(await call("GET", "/cpu/health")).toEqual({ status: 200, body: { status: "healthy", service: "cpu" } });
  });

  test("POST /cpu/validate counts as the original", async () => {
    const { status, body } = await call("POST", "/cpu/validate", { text: "Hello world from load balancer" });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "success",
      is_valid: true,
      character_count: 30,
      word_count: 5,
      average_word_length: 6,
    });
    const odd = await call("POST", "/cpu/validate", { text: "a bc" });
    expect(odd.body).toMatchObject({ character_count: 4, word_count: 2, average_word_length: 2 });
    const thirds = await call("POST", "/cpu/validate", { text: "ab cd e" });
    expect(thirds.body.average_word_length).toBe(2.33);
  });

  test("blank text is a 400 with the remote function's message", async () => {
    expect(await call("POST", "/cpu/validate", { text: "   " })).toEqual({
      status: 400,
      body: { error: "bad_request", message: "text cannot be empty" },
    });
    expect(await call("POST", "/cpu/transform", { text: "" })).toEqual({
      status: 400,
      body: { error: "bad_request", message: "text cannot be empty" },
    });
  });

  test.each([
    ["uppercase", "they're here", "THEY'RE HERE"],
    ["lowercase", "Hello World", "hello world"],
    ["reverse", "hello world", "dlrow olleh"],
    ["reverse", "ab😀c", "c😀ba"],
    ["title", "they're here", "They'Re Here"],
  ])("POST /cpu/transform %s", async (operation, text, transformed) => {
    const { status, body } = await call("POST", "/cpu/transform", { text, operation });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "success", original: text, transformed, operation });
  });

  test("operation defaults to uppercase", async () => {
    const { body } = await call("POST", "/cpu/transform", { text: "abc" });
    expect(body).toMatchObject({ transformed: "ABC", operation: "uppercase" });
  });

  test("an unknown operation is a 400 listing the valid ones", async () => {
    expect(await call("POST", "/cpu/transform", { text: "abc", operation: "shout" })).toEqual({
      status: 400,
      body: { error: "bad_request", message: "operation must be one of: uppercase, lowercase, reverse, title" },
    });
  });

  test("called directly on the pool: results and InputErrors", async () => {
    expect((await transform("Mixed Case", "lowercase")).transformed).toBe("mixed case");
    expect((await validate("one two")).word_count).toBe(2);
    const error = await validate("").catch((e) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect([error.remoteName, statusOf(error)]).toEqual(["InputError", 400]);
  });
});

describe("docs, pools and helpers", () => {
  test("every route is in /docs/json; POST routes carry a request example", async () => {
    const doc = (await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json()) as any;
    const p = (s: string) => doc.paths[`/03_advanced_workers/05_load_balancer${s}`];
    for (const s of ["/gpu/health", "/gpu/info", "/cpu/health"])
      expect(p(s)?.get?.tags[0]).toBe("03 Advanced Workers > 05 Load Balancer");
    for (const s of ["/gpu/compute", "/cpu/validate", "/cpu/transform"]) {
      expect(p(s)?.post?.requestBody.content["application/json"].schema.examples.length).toBeGreaterThan(0);
    }
  });

  test("the calls ran on the two endpoints' pools", async () => {
    const gpu = await pool("03_05_gpu");
    const cpu = await pool("03_05_cpu");
    expect(gpu.calls).toBeGreaterThanOrEqual(5);
    expect(cpu.calls).toBeGreaterThanOrEqual(10);
    expect(gpu.workers.total).toBeGreaterThanOrEqual(1); // workersMin 1 keeps one warm
  });

  test("pyTitle matches Python's str.title()", () => {
    expect(pyTitle("hello WORLD 3d o'neil")).toBe("Hello World 3D O'Neil");
    expect(applyOperation("Ab", "title")).toBe("Ab");
  });
});

test("mothership.ts: the CPU load balancer that would serve the routes when deployed", () => {
  expect(mothership.kind).toBe("CpuLiveLoadBalancer");
  expect(mothership.isLoadBalancer).toBe(true);
  expect(mothership.name).toBe("03_05_load_balancer-mothership");
});
