import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { countPrimes } from "./cpu_worker";
import { detokenize, generateTokens } from "./gpu_worker";

// The example's routes on the unified app, with remote functions on a local pool of this file's own.
const ex = exampleHarness(import.meta.dir);
// Worker starts (GPU configs: subprocesses) take seconds on a loaded machine.
setDefaultTimeout(30_000);

/** POST a JSON body to one of the example's routes (`/gpu/generate`, …), as a client would. */
async function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return ex.app.fetch(
    new Request(`http://localhost/03_advanced_workers/01_streaming${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    }),
  );
}

/** The events of a Server-Sent Events body, read as they arrive. */
async function* events(res: Response): AsyncGenerator<{ event: string; data: any }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(":")) continue;
        yield {
          event: /^event: (.*)$/m.exec(block)?.[1] ?? "message",
          data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!),
        };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function all(res: Response): Promise<{ event: string; data: any }[]> {
  const out = [];
  for await (const e of events(res)) out.push(e);
  return out;
}

describe("01 Streaming: token generator (GPU config)", () => {
  test("POST /generate streams one event per token, then done", async () => {
    const res = await post("/gpu/generate", { prompt: "a stream", seed: 3 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const got = await all(res);
    const tokens = got.filter((e) => e.event === "message").map((e) => e.data.token);
    expect(detokenize(tokens)).toBe("sends each token as it comes in.");
    expect(got.at(-1)).toEqual({ event: "done", data: { chunks: tokens.length } });
  });

  test("the first token arrives while the generator is still producing the rest", async () => {
    // 200 tokens at 50 ms each take 10 s; the first event is read, then the client leaves (the worker stops).
    const controller = new AbortController();
    const res = await post(
      "/gpu/generate",
      { prompt: "the worker", max_tokens: 200, delay_ms: 50, seed: 4 },
      controller.signal,
    );
    const it = events(res);
    const first = await it.next();
    expect(first.value).toMatchObject({ event: "message", data: { index: 0 } });
    const second = await it.next();
    expect(second.value?.event).toBe("message"); // not done: the generator is still running
    await it.return(undefined);
    controller.abort();
  }, 30_000);

  test("POST /complete returns the collected text", async () => {
    const res = await post("/gpu/complete", { prompt: "a stream", seed: 8 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      prompt: "a stream",
      text: "is real: every token at a long job, but the first word arrives early.",
      tokens: 17,
      finish_reason: "stop",
    });
  });

  test("a prompt the model cannot continue is a 400 before any event; a bad body a 422", async () => {
    const res = await post("/gpu/generate", { prompt: "xyz" });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain("no word the model knows");
    expect((await post("/gpu/generate", { prompt: "a", max_tokens: 0 })).status).toBe(422);
  });

  test("generateTokens runs as a remote generator", async () => {
    const tokens: string[] = [];
    for await (const { token } of generateTokens({ prompt: "the client", max_tokens: 3, seed: 1 })) tokens.push(token);
    expect(tokens).toHaveLength(3);
  });
});

describe("01 Streaming: progress of a long job (CPU config)", () => {
  test("POST /primes streams one progress event per window, then done", async () => {
    const got = await all(await post("/cpu/primes", { limit: 1_000_000, steps: 4 }));
    expect(got.map((e) => e.data.done_pct ?? e.event)).toEqual([25, 50, 75, 100, "done"]);
    expect(got[3]!.data).toMatchObject({ step: 4, of: 4, primes_so_far: 78_498 });
    expect(got[4]!.data).toEqual({ chunks: 4 });
  });

  test("a bad limit is a 422", async () => {
    const res = await post("/cpu/primes", { limit: 5 });
    expect(res.status).toBe(422);
    expect((await res.json()).message).toBe("body.limit: Expected integer to be greater or equal to 10");
  });

  test("countPrimes yields while it counts (the prime counts below 10^n)", async () => {
    const last = [];
    for await (const p of countPrimes({ limit: 100_000, steps: 2 })) last.push(p.primes_so_far);
    expect(last).toEqual([5_133, 9_592]);
  });
});

describe("the docs", () => {
  test("the streaming routes declare a text/event-stream 200 in the OpenAPI document, the JSON route JSON", async () => {
    const doc = (await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json()) as {
      paths: Record<string, { post: { responses: Record<string, { content: Record<string, unknown> }> } }>;
    };
    const base = "/03_advanced_workers/01_streaming";
    for (const route of ["/gpu/generate", "/cpu/primes"]) {
      expect(Object.keys(doc.paths[base + route]!.post.responses["200"]!.content)).toEqual(["text/event-stream"]);
    }
    expect(Object.keys(doc.paths[`${base}/gpu/generate`]!.post.responses["400"]!.content)).toEqual([
      "application/json",
    ]);
    expect(Object.keys(doc.paths[`${base}/gpu/complete`]!.post.responses["200"]!.content)).toEqual([
      "application/json",
    ]);
  });
});
