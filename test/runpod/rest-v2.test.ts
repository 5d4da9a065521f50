/**
 * The REST v2 client's manners with Runpod's rate limits (the `RateLimit` header of the IETF draft the document
 * cites, and 429 with `Retry-After`), against a small server that answers what a test scripts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { RunpodHttp } from "../../core/runpod/http";
import { RestV2Error, RunpodRestV2 } from "../../core/runpod/rest-v2";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => server?.stop(true));

/** A server that answers each request with the next scripted reply, and records when each arrived. */
function scripted(replies: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
  const arrivals: number[] = [];
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      arrivals.push(performance.now());
      const r = replies.shift() ?? { status: 200, body: { endpoints: [] } };
      const type = r.status >= 400 ? "application/problem+json" : "application/json";
      return new Response(JSON.stringify(r.body ?? { endpoints: [] }), {
        status: r.status,
        headers: { "content-type": type, ...r.headers },
      });
    },
  });
  const client = new RunpodRestV2(new RunpodHttp("rpa_test", { attempts: 2 }), `http://127.0.0.1:${server.port}`);
  return { client, arrivals };
}

describe("REST v2 rate limits", () => {
  test("a spent window (RateLimit r=0) makes the next request wait until it resets", async () => {
    const { client, arrivals } = scripted([
      { status: 200, headers: { RateLimit: '"minute";r=0;t=1, "hour";r=5;t=900' } },
    ]);
    await client.listEndpoints();
    await client.listEndpoints();
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
  });

  test("a window with requests left does not wait", async () => {
    const { client, arrivals } = scripted([{ status: 200, headers: { RateLimit: '"minute";r=3;t=40' } }]);
    await client.listEndpoints();
    await client.listEndpoints();
    expect(arrivals[1]! - arrivals[0]!).toBeLessThan(900);
  });

  test("a 429 is retried after its Retry-After; a problem+json refusal is thrown in Runpod's words", async () => {
    const limited = { title: "Too Many Requests", status: 429, detail: "rate limit exceeded for the minute window" };
    const { client, arrivals } = scripted([
      { status: 429, headers: { "Retry-After": "1" }, body: limited },
      { status: 200 },
      { status: 404, body: { title: "Not Found", status: 404, detail: "endpoint nope not found" } },
      { status: 400, body: { title: "Bad Request", status: 400, detail: "send exactly one of gpu or cpu" } },
    ]);
    expect(await client.listEndpoints()).toEqual([]);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(950);
    expect(await client.getEndpoint("nope")).toBeUndefined(); // 404 on a read: not there
    const err = await client.request("POST", "/serverless", {}).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RestV2Error);
    expect((err as RestV2Error).message).toBe(
      "Runpod POST /v2/serverless answered 400 Bad Request: send exactly one of gpu or cpu",
    );
    expect((err as RestV2Error).detail).toBe("send exactly one of gpu or cpu");
  });
});
