/**
 * Streaming after `flash deploy`, against a running emulator: the 01_streaming example (queue endpoints, Server-Sent
 * Events routes) and a load-balanced generator deployed, every streamed route answered through the mothership
 * byte for byte as through `flash run`, and a generator's own LB route streaming NDJSON to a plain client.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_FLASHIGNORE } from "../../core/deploy/artifact";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { makeWorkspace, REPO, removeDir, startFlash, writeFiles } from "../helpers/workspace";

const KEY = "rpa_deploy_stream_key_0123456789";
let ws = "";
let em: Emulator;

/** A load-balanced generator (flash's LB worker streams it as NDJSON) behind an SSE route. */
const LB_EXAMPLE = `import { Elysia, t, remote, sse, CpuLiveLoadBalancer } from "flash";

const lb = new CpuLiveLoadBalancer({ name: "99_01_lb", workersMax: 1 });

export const squares = remote(
  lb,
  async function* (input: { n: number }) {
    for (let i = 1; i <= input.n; i++) yield { i, square: i * i };
  },
  { method: "POST", path: "/squares" },
);

export const cpu_router = new Elysia().post("/squares", ({ body }) => sse(squares(body)), {
  body: t.Object({ n: t.Integer({ minimum: 1, maximum: 100 }) }),
});
`;

const ROUTES: [string, unknown][] = [
  ["/03_advanced_workers/01_streaming/gpu/generate", { prompt: "a stream" }],
  ["/03_advanced_workers/01_streaming/gpu/complete", { prompt: "a stream", seed: 8 }],
  ["/03_advanced_workers/01_streaming/cpu/primes", { limit: 100_000, steps: 3 }],
  ["/99_streams/01_lb/cpu/squares", { n: 3 }],
];

async function post(url: string, body: unknown, auth: boolean): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = `Bearer ${KEY}`;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

beforeAll(() => {
  ws = makeWorkspace({}, "flash-deploy-stream-");
  cpSync(join(REPO, "03_advanced_workers/01_streaming"), join(ws, "03_advanced_workers/01_streaming"), {
    recursive: true,
    filter: (p) => !p.includes("node_modules"),
  });
  writeFiles(ws, { "99_streams/01_lb/cpu_worker.ts": LB_EXAMPLE });
  writeFileSync(join(ws, ".flashignore"), DEFAULT_FLASHIGNORE);
  em = startEmulator({ apiKey: KEY, workers: { env: { FLASH_WORKER_CACHE: join(ws, ".flash", "worker-cache") } } });
});

afterAll(async () => {
  await em?.stop();
  if (ws) removeDir(ws);
});

test("streamed routes answer through the deployed mothership as through flash run", async () => {
  const env = {
    RUNPOD_API_KEY: KEY,
    RUNPOD_API_BASE_URL: em.apiBaseUrl,
    RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl,
    RUNPOD_LB_BASE_URL: em.lbBaseUrl,
    NO_COLOR: "1",
  };
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "deploy", "--yes"], {
    cwd: ws,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(code, out + err).toBe(0);
  const mothership = [...em.control.endpoints.values()].find((e) => e.name.includes("mothership"))!;
  const base = em.lbBaseUrl.replace("{id}", mothership.id);
  const local = await startFlash(ws, [], { FLASH_WORKER_CACHE: join(ws, ".flash", "worker-cache") });
  try {
    for (const [route, body] of ROUTES) {
      const deployed = await post(`${base}${route}`, body, true);
      const live = await post(`${local.url}${route}`, body, false);
      expect({ route, status: deployed.status }).toEqual({ route, status: 200 });
      expect(deployed.text).toBe(live.text);
    }
  } finally {
    await local.stop();
  }
  const squares = await post(`${base}/99_streams/01_lb/cpu/squares`, { n: 2 }, true);
  expect(squares.text).toContain('data: {"i":2,"square":4}');
  // The generator's own route on its LB endpoint: one JSON value per line for a plain client.
  const lb = [...em.control.endpoints.values()].find((e) => e.name.startsWith("99_01_lb"))!;
  const direct = await post(`${em.lbBaseUrl.replace("{id}", lb.id)}/squares`, { n: 2 }, true);
  expect(direct.text).toBe('{"i":1,"square":1}\n{"i":2,"square":4}\n');
}, 240_000);
