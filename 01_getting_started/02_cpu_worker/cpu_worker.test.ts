import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { cpuConfig, cpuHello } from "./cpu_worker";
import { mothership } from "./mothership";

const ex = exampleHarness(import.meta.dir);
// Worker starts (GPU configs: subprocesses) take seconds on a loaded machine.
setDefaultTimeout(30_000);
const { post, pool } = ex;

describe("02_cpu_worker through the unified app", () => {
  test("loads with one cpu router at its prefix", () => {
    expect(ex.app.errors).toEqual([]);
    expect(ex.app.examples[0]!.routers.map((r) => [r.type, r.prefix])).toEqual([
      ["cpu", "/01_getting_started/02_cpu_worker/cpu"],
    ]);
  });

  test("POST /cpu/hello greets the name sent (the original ignored it)", async () => {
    const { status, body } = await post("/cpu/hello", { name: "Flash User" });
    expect(status).toBe(200);
    expect(body.status).toBe("success");
    expect(body.message).toBe("Hello, Flash User!");
    expect(body.worker_type).toBe("CPU");
    expect(body.platform).toBe(process.platform);
    expect(body.runtime_version).toBe(`bun ${Bun.version}`);
    expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(60_000);
  });

  test("an omitted name uses the default, a blank one greets Anonymous Panda", async () => {
    expect((await post("/cpu/hello", {})).body.message).toBe("Hello, Flash expert!");
    const noBody = await ex.request("POST", "/cpu/hello");
    expect(((await noBody.json()) as any).message).toBe("Hello, Flash expert!");
    expect((await post("/cpu/hello", { name: "   " })).body.message).toBe("Hello, Anonymous Panda!");
    expect((await post("/cpu/hello", { name: "  Ada " })).body.message).toBe("Hello, Ada!");
  });

  test("a name of the wrong type or too long is a 422 naming the field", async () => {
    const wrongType = await post("/cpu/hello", { name: 3 });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.error).toBe("validation");
    expect(wrongType.body.detail[0].loc).toEqual(["body", "name"]);
    expect(wrongType.body.detail[0].input).toBe(3);
    const tooLong = await post("/cpu/hello", { name: "x".repeat(201) });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail[0].loc).toEqual(["body", "name"]);
  });

  test("a body that is not JSON is a 400", async () => {
    const { status, body } = await post("/cpu/hello", "{not json");
    expect(status).toBe(400);
    expect(body.error).toBe("bad_request");
  });

  test("the route is in /docs/json with a request schema and an example", async () => {
    const res = await ex.app.fetch(new Request("http://localhost/docs/json"));
    const doc = (await res.json()) as any;
    const op = doc.paths["/01_getting_started/02_cpu_worker/cpu/hello"].post;
    expect(op.tags[0]).toBe("01 Getting Started > 02 Cpu Worker");
    const schema = op.requestBody.content["application/json"].schema;
    expect(schema.properties.name.default).toBe("Flash expert");
    expect(schema.required ?? []).not.toContain("name");
    expect(schema.examples).toEqual([{ name: "Flash User" }]);
  });
});

describe("cpuHello on the local worker pool", () => {
  test("the config is the original's CPU endpoint", () => {
    expect(cpuConfig.kind).toBe("CpuLiveServerless");
    expect(cpuConfig.name).toBe("01_02_cpu");
    expect(cpuConfig.instanceIds).toEqual(["cpu3c-2-4"]);
    expect([cpuConfig.workersMin, cpuConfig.workersMax, cpuConfig.idleTimeout]).toEqual([0, 3, 5]);
  });

  test("runs remotely and returns a JSON result", async () => {
    const result = await cpuHello({ name: "Pool" });
    expect(result.message).toBe("Hello, Pool!");
    expect(result.worker_type).toBe("CPU");
  });

  test("concurrent calls all succeed with their own names", async () => {
    const names = ["a", "b", "c", "d", "e"];
    const results = await Promise.all(names.map((name) => cpuHello({ name })));
    expect(results.map((r) => r.message)).toEqual(names.map((n) => `Hello, ${n}!`));
  });

  test("the calls went through the 01_02_cpu pool, within its worker limit", async () => {
    const status = await pool("01_02_cpu");
    expect(status).toBeDefined();
    expect(status.calls).toBeGreaterThanOrEqual(6);
    expect(status.errors).toBe(0);
    expect(status.workers.total).toBeGreaterThanOrEqual(1);
    expect(status.workers.total).toBeLessThanOrEqual(3);
  });
});

test("mothership.ts: the CPU load balancer that would serve the routes when deployed", () => {
  expect(mothership.kind).toBe("CpuLiveLoadBalancer");
  expect(mothership.isLoadBalancer).toBe(true);
  expect(mothership.name).toBe("01_02_cpu_worker-mothership");
});
