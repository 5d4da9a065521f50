/**
 * Load-balanced endpoints: `https://{id}.api.runpod.ai/{path}` (here `/lb/{id}/{path}`) proxied to a ready worker's
 * PORT (https://docs.runpod.io/serverless/load-balancing/overview), within the 30 MB limit of an LB reply.
 */
import { Elysia } from "elysia";
import { LB_NO_WORKERS_TEXT, PAYLOAD_LIMITS } from "../../runpod/platform";
import { type EmulatorContext, endpointOf, jsonError } from "./context";

/** The LB proxy plane. */
export function lbProxy(ctx: EmulatorContext) {
  const { supervisor } = ctx;
  return new Elysia().all(
    "/lb/:ep/*",
    async ({ request, params }) => {
      const e = endpointOf(ctx, params.ep);
      if (e instanceof Response) return e;
      if (e.type !== "LB") return jsonError(400, "not allowed for QB API");
      const worker = await supervisor.acquireLb(e.id, request.signal);
      if (!worker) return jsonError(503, LB_NO_WORKERS_TEXT);
      let handedOff = false;
      try {
        const url = new URL(request.url);
        const headers = new Headers(request.headers);
        headers.delete("authorization");
        headers.delete("host");
        const hasBody = request.method !== "GET" && request.method !== "HEAD";
        const res = await fetch(`http://127.0.0.1:${worker.port}/${params["*"]}${url.search}`, {
          method: request.method,
          headers,
          body: hasBody ? await request.arrayBuffer() : undefined,
          signal: request.signal,
        });
        if (streamedBody(res)) {
          // A streamed reply (a generator's NDJSON, an SSE route) goes through as the worker writes it, as
          // Runpod's load balancer passes it ("ideal for real-time applications and streaming":
          // https://docs.runpod.io/serverless/load-balancing/overview); the worker is busy until it ends.
          handedOff = true;
          return passThrough(res, () => supervisor.releaseLb(worker));
        }
        const payload = await res.arrayBuffer();
        if (payload.byteLength > PAYLOAD_LIMITS.lb) {
          return jsonError(
            502,
            `worker response of ${payload.byteLength} bytes exceeds the 30 MB limit of load-balanced endpoints`,
          );
        }
        const out = new Response(payload, { status: res.status, headers: res.headers });
        out.headers.delete("content-encoding");
        out.headers.delete("content-length");
        return out;
      } catch (error) {
        return jsonError(502, `worker ${worker.id} did not answer: ${(error as Error).message}`);
      } finally {
        if (!handedOff) supervisor.releaseLb(worker);
      }
    },
    { parse: "none" },
  );
}

/** A worker reply that streams: NDJSON or Server-Sent Events. */
function streamedBody(res: Response): boolean {
  const type = res.headers.get("content-type") ?? "";
  return res.body !== null && (type.includes("application/x-ndjson") || type.includes("text/event-stream"));
}

/** The worker's streamed reply, passed on as it comes; `done` runs once when it ends or the client leaves. */
function passThrough(res: Response, done: () => void): Response {
  const reader = res.body!.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: end } = await reader.read();
        if (end) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    async cancel() {
      finish();
      await reader.cancel().catch(() => undefined);
    },
  });
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(body, { status: res.status, headers });
}
