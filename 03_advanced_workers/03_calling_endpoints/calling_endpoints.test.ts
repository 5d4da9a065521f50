import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { WebhookInbox, webhookSecret } from "./client";
import { startTestEndpoint, type TestEndpoint, useEnv } from "./test-endpoint";

const ex = exampleHarness(import.meta.dir);
setDefaultTimeout(30_000);

let endpoint: TestEndpoint;
let restore: () => void;
const quiet = console.log;
beforeAll(async () => {
  console.log = () => {}; // runpod-sdk's runSync prints every poll
  endpoint = await startTestEndpoint();
  restore = useEnv(endpoint.env);
});
afterAll(async () => {
  console.log = quiet;
  restore();
  await endpoint.stop();
});

describe("calling an existing endpoint with runpod-sdk (against the emulator)", () => {
  test("runsync returns the finished job with the handler's output and Runpod's timings", async () => {
    const { status, body } = await ex.post("/runsync", { input: { text: "one two three" } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "COMPLETED", output: { words: 3, characters: 13, upper: "ONE TWO THREE" } });
    expect(body.id).toStartWith("sync-");
    expect(typeof body.delayTime).toBe("number");
    expect(typeof body.executionTime).toBe("number");
    expect(Object.keys(body).sort()).toEqual(["delayTime", "executionTime", "id", "output", "status"]); // no worker ids
  });

  test("run answers at once (IN_QUEUE); status and wait follow the job to COMPLETED", async () => {
    const run = await ex.post("/run", { input: { text: "later", sleep_ms: 400 } });
    expect(run.body.status).toBe("IN_QUEUE");
    const first = await ex.call("GET", `/status/${run.body.id}`);
    expect(["IN_QUEUE", "IN_PROGRESS"]).toContain(first.body.status);
    const done = await ex.call("GET", `/wait/${run.body.id}?wait_s=20`);
    expect(done.body).toMatchObject({ id: run.body.id, status: "COMPLETED", output: { words: 1 } });
  });

  test("a webhook delivers the finished job to the receiver", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => ex.app.fetch(req) });
    try {
      const base = `http://127.0.0.1:${server.port}/03_advanced_workers/03_calling_endpoints`;
      const run = (await (
        await fetch(`${base}/run`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ input: { text: "hook me" }, webhook: true }),
        })
      ).json()) as { id: string };
      const hook = endpoint.emulator.store.jobs.get(run.id)?.webhook ?? "";
      expect(hook.startsWith(`${base}/webhook?token=`)).toBe(true);
      let got: Response | undefined;
      for (let i = 0; i < 100; i++) {
        got = await fetch(`${base}/webhook/${run.id}`);
        if (got.status === 200) break;
        await Bun.sleep(100);
      }
      expect(got!.status).toBe(200);
      expect(((await got!.json()) as any).job).toMatchObject({ id: run.id, status: "COMPLETED", output: { words: 2 } });
    } finally {
      await server.stop(true);
    }
  });

  test("a forged webhook post (no token, or a wrong one) gets 401 and is not kept; the real token is accepted", async () => {
    const job = { id: "forged-job-1", status: "COMPLETED", output: { words: 99 } };
    for (const query of ["", "?token=guess"]) {
      const res = await ex.app.fetch(
        new Request(`http://localhost/03_advanced_workers/03_calling_endpoints/webhook${query}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(job),
        }),
      );
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe("unauthorized");
    }
    expect((await ex.call("GET", "/webhook/forged-job-1")).status).toBe(404);
    const real = await ex.app.fetch(
      new Request(
        `http://localhost/03_advanced_workers/03_calling_endpoints/webhook?token=${encodeURIComponent(webhookSecret())}`,
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(job) },
      ),
    );
    expect(real.status).toBe(200);
    expect((await ex.call("GET", "/webhook/forged-job-1")).status).toBe(200);
  });

  test("a batch runs every input, counts failures, keeps the order", async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => ({ text: "w ".repeat(i + 1) }));
    const { status, body } = await ex.post("/batch", { inputs: [...inputs, { fail: "nope" }], wait_s: 30 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ completed: 8, failed: 1, pending: 0 });
    expect(body.jobs.slice(0, 8).map((j: { output: { words: number } }) => j.output.words)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect(body.jobs[8]).toMatchObject({ status: "FAILED" });
  });

  test("bad requests are 422s; an unknown job is a 502 that never shows the key", async () => {
    expect((await ex.post("/runsync", {})).status).toBe(422);
    expect((await ex.post("/batch", { inputs: [] })).body.detail[0].msg).toBe(
      "inputs must be a list of 1 to 50 job inputs",
    );
    expect((await ex.post("/runsync", { input: { text: "x" }, wait_s: 0 })).status).toBe(422);
    const res = await ex.request("GET", "/status/no-such-job");
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain(endpoint.env.RUNPOD_API_KEY);
    expect(JSON.parse(text)).toEqual({
      error: "upstream_error",
      message: "the endpoint's API answered 404 (check TARGET_ENDPOINT_ID, or the job id)",
    });
  });

  test("without TARGET_ENDPOINT_ID the routes answer 503 with what to set", async () => {
    const undo = useEnv({ TARGET_ENDPOINT_ID: "" });
    try {
      const { status, body } = await ex.post("/runsync", { input: { text: "x" } });
      expect(status).toBe(503);
      expect(body).toEqual({
        error: "not_configured",
        message: "set TARGET_ENDPOINT_ID (the endpoint to call) and RUNPOD_API_KEY in .env",
      });
    } finally {
      undo();
    }
  });
});

test("the webhook inbox keeps the newest jobs only", () => {
  const inbox = new WebhookInbox(2);
  for (const id of ["a", "b", "c"]) inbox.add({ id, status: "COMPLETED" });
  expect(inbox.get("a")).toBeUndefined();
  expect(inbox.get("c")?.job).toEqual({ id: "c", status: "COMPLETED" });
});
