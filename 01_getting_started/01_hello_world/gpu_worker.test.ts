import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { gpuHello } from "./gpu_worker";

const ex = exampleHarness(import.meta.dir);
// Worker starts (GPU configs: subprocesses) take seconds on a loaded machine.
setDefaultTimeout(30_000);
const post = (path: string, body: string) => ex.post(path, body);
const pool = () => ex.pool("01_01_hello_world_gpu");

describe("01_hello_world through the unified app", () => {
  test("loads one gpu router", () => {
    expect(ex.app.errors).toEqual([]);
    expect(ex.app.examples[0]!.routers.map((r) => [r.type, r.prefix])).toEqual([
      ["gpu", "/01_getting_started/01_hello_world/gpu"],
    ]);
  });

  test("POST /gpu/hello runs gpuHello in a GPU-config worker process and returns its report", async () => {
    const { status, body } = await post("/gpu/hello", JSON.stringify({ message: "Hello GPU!" }));
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "success",
      message: "Hello GPU!",
      worker_type: "GPU",
      platform: process.platform,
      runtime_version: `bun ${Bun.version}`,
    });
    expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(60_000);
    // No GPU here: the worker reports none (on a GPU machine it reports the GPU it is pinned to).
    if (body.gpu_info.available) expect(body.gpu_info.count).toBeGreaterThan(0);
    else expect(body.gpu_info).toMatchObject({ available: false, name: null, count: 0, memory_gb: 0 });
    const p = await pool();
    expect(p).toMatchObject({
      kind: "LiveServerless",
      workerKind: "process",
      workersMin: 0,
      workersMax: 3,
      idleTimeout: 5,
    });
    expect(p.calls).toBeGreaterThanOrEqual(1);
    expect(p.workers.total).toBeGreaterThanOrEqual(1);
    expect(p.lastColdStartMs).toBeGreaterThan(0);
  });

  test("the default message applies when the body omits it", async () => {
    const { status, body } = await post("/gpu/hello", "{}");
    expect(status).toBe(200);
    expect(body.message).toBe("Hello from GPU!");
  });

  test("bad input is a 422 naming the field", async () => {
    const { status, body } = await post("/gpu/hello", JSON.stringify({ message: 42 }));
    expect(status).toBe(422);
    expect(body.error).toBe("validation");
    expect(body.detail[0].loc).toEqual(["body", "message"]);
  });

  test("gpuHello can be awaited directly (it carries its config)", async () => {
    const report = await gpuHello({});
    expect(report.message).toBe("Hello from GPU worker!");
    expect((gpuHello as any).remote.config.name).toBe("01_01_hello_world_gpu");
  });
});
