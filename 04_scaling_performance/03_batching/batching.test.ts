import { describe, expect, test } from "bun:test";
import { Batcher } from "./batcher";
import { cpu_router, LIMITS } from "./cpu_worker";

/** POST a JSON body to the router, the way the unified app forwards a request to it. */
async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await cpu_router.handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
  const text = await res.text();
  // Outside the unified app a 422 is Elysia's plain text (the app turns it into its JSON error).
  return { status: res.status, body: res.status === 200 ? JSON.parse(text) : text };
}

/** A batcher over a function that records each batch it gets. */
function recording(windowMs: number, maxBatch = 4) {
  const batches: string[][] = [];
  const b = new Batcher<string, string>(
    async (items) => {
      batches.push(items);
      return items.map((x) => x.toUpperCase());
    },
    windowMs,
    maxBatch,
  );
  return { b, batches };
}

describe("Batcher", () => {
  test("requests within the window share one call; each gets its own result and the batch size", async () => {
    const { b, batches } = recording(20);
    const out = await Promise.all(["a", "b", "c"].map((x) => b.submit(x)));
    expect(batches).toEqual([["a", "b", "c"]]);
    expect(out).toEqual([
      { result: "A", batchSize: 3 },
      { result: "B", batchSize: 3 },
      { result: "C", batchSize: 3 },
    ]);
  });

  test("a window of 0 sends each request alone", async () => {
    const { b, batches } = recording(0);
    await Promise.all(["a", "b"].map((x) => b.submit(x)));
    expect(batches).toEqual([["a"], ["b"]]);
  });

  test("a full batch goes at once; the overflow gets its own window", async () => {
    const { b, batches } = recording(10_000, 2); // a window no test waits for: only fullness sends the first batch
    const first = Promise.all([b.submit("a"), b.submit("b")]);
    expect(batches).toEqual([["a", "b"]]);
    await first;
    const slow = recording(5, 2);
    await Promise.all(["a", "b", "c"].map((x) => slow.b.submit(x)));
    expect(slow.batches).toEqual([["a", "b"], ["c"]]);
  });

  test("a failed batch fails each of its requests with the error", async () => {
    const b = new Batcher<string, string>(async () => Promise.reject(new Error("model down")), 5, 8);
    const out = await Promise.allSettled(["a", "b"].map((x) => b.submit(x)));
    expect(out.map((o) => (o.status === "rejected" ? (o.reason as Error).message : "ok"))).toEqual([
      "model down",
      "model down",
    ]);
  });
});

describe("routes (local pool)", () => {
  test("POST /detect-burst: with a window the burst costs one model call, with 0 one per text", async () => {
    const texts = ["Good morning, how are you today?", "Guten Morgen, wie geht es Ihnen?", "Où est la gare ?"];
    const batched = await post("/detect-burst", { texts, window_ms: 10 });
    expect(batched.status).toBe(200);
    expect(batched.body).toMatchObject({ requests: 3, model_calls: 1 });
    expect(batched.body.results.map((r: { language: string }) => r.language)).toEqual(["eng", "deu", "fra"]);
    const alone = await post("/detect-burst", { texts, window_ms: 0 });
    expect(alone.body).toMatchObject({ requests: 3, model_calls: 3 });
  }, 30_000);

  test("POST /detect answers one text with its batch size and window", async () => {
    const { status, body } = await post("/detect", { text: "Buenos días, ¿cómo estás?", window_ms: 0 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ language: "spa", batch_size: 1, window_ms: 0 });
  }, 30_000);

  test("POST /io-burst: one worker with maxConcurrency 8 runs 8 calls at once", async () => {
    const { status, body } = await post("/io-burst", { calls: 8, delay_ms: 100 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ calls: 8, max_concurrent: 8, workers: 1, one_at_a_time_ms: 800 });
  }, 30_000);

  test("limits are 422s naming the field", async () => {
    const wide = await post("/detect", { text: "hello", window_ms: LIMITS.maxWindowMs + 1 });
    expect(wide.status).toBe(422);
    expect(wide.body).toContain("window_ms");
    const many = await post("/io-burst", { calls: LIMITS.maxCalls + 1 });
    expect(many.status).toBe(422);
    expect(many.body).toContain("calls");
  });
});
