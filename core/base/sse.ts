/**
 * Server-Sent Events for route handlers: `sse(iterable)` answers `text/event-stream` with one `data:` event per
 * value (its JSON), a final `event: done`, or an `event: error` carrying the same body as a route's error (the
 * message for a 4xx, a generic message and a request id for anything else; the detail goes to the log). It waits
 * for the first value before it answers, so a failure before any value (bad input found by the remote function) is
 * an ordinary HTTP error (400, 500) instead of a 200 stream that fails. A client that disconnects stops the
 * iterable (`return()`), which for a remote generator closes it in its worker.
 */
import { errorBody, json, statusOf } from "./errors";

/** Options of `sse()`. */
export interface SseOptions {
  /** Names the stream in the log when it fails (default "sse"). */
  name?: string;
  /** A comment line is sent after this long without an event, so proxies keep the connection open (ms; 15 s). */
  keepAliveMs?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

const encoder = new TextEncoder();

/** The call was aborted because the client went away (its remote error, or the abort itself). */
function aborted(err: unknown): boolean {
  const e = err as { name?: string; remoteName?: string } | null;
  return e?.remoteName === "AbortError" || e?.name === "AbortError";
}

/** One SSE frame: an optional event name and a JSON data line. */
function frame(data: unknown, event?: string): Uint8Array {
  return encoder.encode(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
}

/** Answer a route with the values of `source` as Server-Sent Events, each sent as soon as it is produced. */
export async function sse(source: AsyncIterable<unknown>, options: SseOptions = {}): Promise<Response> {
  const iterator = source[Symbol.asyncIterator]();
  const where = options.name ?? "sse";
  let first: IteratorResult<unknown>;
  try {
    first = await iterator.next();
  } catch (err) {
    if (aborted(err)) return new Response(null, { status: 499 }); // the client left: nobody reads, nothing to log
    const status = statusOf(err);
    return json(errorBody(err, status, where), status);
  }
  let pending: IteratorResult<unknown> | undefined = first;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  let count = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    closed = true;
    clearTimeout(timer);
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const keepAlive = () => {
        timer = setTimeout(() => {
          if (closed) return;
          controller.enqueue(encoder.encode(": keep-alive\n\n"));
          keepAlive();
        }, keepAliveMs);
      };
      keepAlive();
    },
    // Pulled as the client reads: one value per pull, so a slow client holds the producer's reads back here.
    async pull(controller) {
      try {
        const step = pending ?? (await iterator.next());
        pending = undefined;
        if (closed) return;
        if (step.done) {
          controller.enqueue(frame({ chunks: count }, "done"));
          finish();
          controller.close();
          return;
        }
        count++;
        controller.enqueue(frame(step.value));
      } catch (err) {
        if (closed) return;
        if (aborted(err)) {
          finish();
          controller.close();
          return;
        }
        controller.enqueue(frame(errorBody(err, statusOf(err), where), "error"));
        finish();
        controller.close();
      }
    },
    // The client went away: stop the producer (a remote generator is closed in its worker).
    async cancel() {
      finish();
      await iterator.return?.();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      ...options.headers,
    },
  });
}

/**
 * The OpenAPI `responses` of a route that answers with `sse()`, for its `detail.responses` (give the route no
 * `response` schema: the docs would derive a text/plain 200 from it): a 200 of `text/event-stream`, and JSON error
 * replies with their schemas.
 */
export function sseResponses(description: string, errors: Record<number, object> = {}): SseResponses {
  const out: SseResponses = {
    200: { description, content: { "text/event-stream": { schema: { type: "string", description } } } },
  };
  for (const [status, schema] of Object.entries(errors)) {
    out[status] = { description: `Error ${status}`, content: { "application/json": { schema } } };
  }
  return out;
}

/** OpenAPI response objects by status (the shape `detail.responses` takes). */
type SseResponses = Record<string, { description: string; content: Record<string, { schema: object }> }>;
