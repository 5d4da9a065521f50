/**
 * A generator's call answered over HTTP as it runs: one NDJSON line per chunk, written as the function yields it
 * (Runpod's load balancer passes a streamed HTTP body through: docs serverless/load-balancing/overview, "ideal for
 * real-time applications and streaming"). For flash's own client (`framed`) the lines are `{"chunk": value}`, then
 * one `{"response": FunctionResponse}`; for a plain HTTP client each line is a value, and a failure midway ends the
 * body with `{"error", "message"}`. A client that disconnects aborts the call, which closes the generator.
 */
import type { FunctionResponse } from "../core/remote/protocol";

/** How the call runs: chunks to `onChunk` as they come, `signal` aborted when the client leaves. */
type StreamedRun = (onChunk: (chunk: unknown) => void, signal: AbortSignal) => Promise<FunctionResponse>;

const encoder = new TextEncoder();
const line = (value: unknown) => encoder.encode(`${JSON.stringify(value)}\n`);

/** The streamed HTTP answer of one generator call. */
export function ndjsonResponse(run: StreamedRun, framed: boolean): Response {
  const stop = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (value: unknown) => {
        if (!stop.signal.aborted) controller.enqueue(line(value));
      };
      void run((chunk) => send(framed ? { chunk } : chunk), stop.signal).then((res) => {
        if (stop.signal.aborted) return;
        if (framed) send({ response: res });
        else if (!res.success) send({ error: res.error?.name ?? "Error", message: res.error?.message ?? "failed" });
        controller.close();
      });
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/x-ndjson", "cache-control": "no-cache" },
  });
}
