/**
 * Per-request cost inside one process, no sockets (complements bench/serve.ts, whose req/s on a shared machine
 * swing with the load): CPU µs per `POST …/cpu/echo` through
 *   (a) the unified app's fetch (buildApp: prefix table → per-router Elysia app with flash's onError → the router),
 *   (b) the same example router alone in a bare Elysia app (Elysia's own cost),
 *   (c) a plain function doing what bench/peer/raw.ts does (parse + minimal check + JSON).
 * (a) − (b) is what flash adds per request. Measured at 1 and at --examples examples; prints figures.
 *
 *   bun bench/handler.ts [--examples 500] [--requests 50000] [--tree head|worktree]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { engine, selectEngine } from "./lib/engine";
import { printTable } from "./lib/table";
import { ECHO_BODY, generateWorkspace, type BenchWorkspace } from "./lib/workspace";

const { values: opts } = parseArgs({
  options: {
    examples: { type: "string", default: "500" },
    requests: { type: "string", default: "50000" },
    tree: { type: "string", default: "head" },
  },
});
const REQUESTS = Number(opts.requests);
const BODY = JSON.stringify(ECHO_BODY);

type Handler = (request: Request) => Response | Promise<Response>;

function rawHandler(example: string): Handler {
  return async (request) => {
    const body: any = await request.json();
    if (typeof body?.message !== "string" || body.message.length > 10_000)
      return Response.json({ error: "validation" }, { status: 422 });
    return Response.json({ status: "success", example, message: body.message, count: body.count ?? 1, version: "v0" });
  };
}

/** CPU µs per request (user + system of this process), over `REQUESTS` requests in batches of 32 (like 32 connections). */
async function cpuPerRequest(handler: Handler, url: string): Promise<{ cpuUs: number; wallUs: number }> {
  const one = async () => {
    const res = await handler(
      new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: BODY }),
    );
    if (res.status !== 200) throw new Error(`${url} → ${res.status} ${await res.text()}`);
    await res.text();
  };
  for (let i = 0; i < 2000; i++) await one(); // warm-up: JIT and Elysia's lazy compile
  Bun.gc(true);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < REQUESTS; i += 32) await Promise.all(Array.from({ length: 32 }, one));
  const wall = (performance.now() - t0) * 1000;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / REQUESTS, wallUs: wall / REQUESTS };
}

async function measure(ws: BenchWorkspace): Promise<string[][]> {
  const { buildApp } = (await import(join(engine.root, "core", "dev", "app.ts"))) as {
    buildApp: (o: { root: string }) => Promise<{ fetch: Handler; errors: unknown[] }>;
  };
  const { Elysia } = (await import(join(engine.root, "core", "index.ts"))) as { Elysia: any };
  const ex = ws.examples[Math.floor(ws.examples.length / 2)]!;
  const url = `http://127.0.0.1${ex.route}`;
  const app = await buildApp({ root: ws.ts });
  if (app.errors.length) throw new Error(`load errors: ${JSON.stringify(app.errors).slice(0, 500)}`);
  const mod = await import(ex.tsFile);
  const bare = new Elysia({ prefix: `/${ex.category}/${ex.name}/cpu` }).use(mod.cpu_router);
  bare.compile();
  const rows: [string, Handler][] = [
    ["unified app (flash)", app.fetch],
    ["router in a bare Elysia app", bare.fetch],
    ["plain function (raw.ts logic)", rawHandler(`${ex.category}/${ex.name}`)],
  ];
  const out: string[][] = [];
  const figures: number[] = [];
  for (const [label, handler] of rows) {
    const r = await cpuPerRequest(handler, url);
    figures.push(r.cpuUs);
    out.push([`${ws.examples.length} examples`, label, `${r.cpuUs.toFixed(2)} µs`, `${r.wallUs.toFixed(2)} µs`]);
  }
  out.push([
    `${ws.examples.length} examples`,
    "flash adds (unified − bare Elysia)",
    `${(figures[0]! - figures[1]!).toFixed(2)} µs`,
    "",
  ]);
  return out;
}

selectEngine(opts.tree!);
console.log(`handler benchmark — flash: ${engine.label}; ${REQUESTS} requests per row, batches of 32`);
const rows: string[][] = [];
for (const n of [1, Number(opts.examples)]) {
  const ws = generateWorkspace(n);
  try {
    rows.push(...(await measure(ws)));
  } finally {
    ws.cleanup();
  }
}
printTable(
  "CPU per request, in process (no sockets): POST …/cpu/echo with a validated body",
  ["workspace", "handler", "CPU/request", "wall/request"],
  rows,
);
