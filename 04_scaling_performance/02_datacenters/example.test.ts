import { describe, expect, test } from "bun:test";
import { gpu_router, gpuHello } from "./gpu_worker";
import { cpu_router, cpuHello } from "./cpu_worker";

/** POST a JSON body to a router, the way the unified app forwards a request to it. */
function post(router: { handle(request: Request): Promise<Response> }, path: string, body: unknown): Promise<Response> {
  return router.handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

describe("02 Datacenters: GPU worker", () => {
  test("POST /hello answers with the message", async () => {
    const res = await post(gpu_router, "/hello", { message: "Hello GPU!" });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: "success", message: "Hello GPU!", worker_type: "GPU" });
    expect(typeof body.gpu_info.available).toBe("boolean");
  });

  test("POST /hello rejects a message that is not a string", async () => {
    const res = await post(gpu_router, "/hello", { message: 42 });
    expect(res.status).toBe(422);
  });

  test("gpuHello runs as a remote function", async () => {
    const reply = await gpuHello({ message: "direct" });
    expect(reply.status).toBe("success");
    expect(reply.message).toBe("direct");
  });
});

describe("02 Datacenters: CPU worker", () => {
  test("POST /hello greets by name", async () => {
    const res = await post(cpu_router, "/hello", { name: "Flash User" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "success", message: "Hello, Flash User!", worker_type: "CPU" });
  });

  test("POST /hello rejects an empty name", async () => {
    const res = await post(cpu_router, "/hello", { name: "" });
    expect(res.status).toBe(422);
  });

  test("cpuHello runs as a remote function", async () => {
    expect((await cpuHello({ name: "Panda" })).message).toBe("Hello, Panda!");
  });
});
