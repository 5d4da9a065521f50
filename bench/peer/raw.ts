/**
 * The ceiling for `bench/serve.ts`: a bare `Bun.serve` that answers `/health` and the generated examples'
 * `POST /{category}/{example}/cpu/echo` with the same JSON as flash and the uvicorn peer (parse + a minimal check),
 * with no framework, discovery or validation library in between.
 * Usage: bun bench/peer/raw.ts --port N
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "0" }, host: { type: "string", default: "127.0.0.1" } },
});
const VERSION = "v0";
const JSON_HEADERS = { "content-type": "application/json" };

function reply(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

async function echo(request: Request, example: string): Promise<Response> {
  let body: any;
  try {
    body = await request.json();
  } catch {
    return reply({ error: "bad_request", message: "invalid JSON" }, 400);
  }
  const { message, count } = body ?? {};
  if (typeof message !== "string" || message.length > 10_000)
    return reply({ error: "validation", message: "body.message" }, 422);
  if (count !== undefined && !(Number.isInteger(count) && count >= 1 && count <= 100))
    return reply({ error: "validation", message: "body.count" }, 422);
  return reply({ status: "success", example, message, count: count ?? 1, version: VERSION });
}

const server = Bun.serve({
  hostname: values.host,
  port: Number(values.port),
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return reply({ status: "healthy" });
    if (request.method === "POST" && url.pathname.endsWith("/cpu/echo")) {
      return echo(request, url.pathname.slice(1, -"/cpu/echo".length));
    }
    return reply({ error: "not_found", path: url.pathname }, 404);
  },
});
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
