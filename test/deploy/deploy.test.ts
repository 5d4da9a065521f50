/**
 * `flash deploy` end to end against a running emulator, as a user runs it (subprocesses, real ports, real workers):
 * this repository's examples deployed, every route answered through the mothership with the same JSON as through
 * `flash run`; a redeploy with no change changes nothing; one config change updates its endpoint; a removed example
 * loses its endpoint; undeploy removes everything flash created and nothing else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_FLASHIGNORE } from "../../core/deploy/artifact";
import type { Manifest } from "../../core/deploy/manifest";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { finished, makeWorkspace, REPO, removeDir, startFlash, type FlashProcess } from "../helpers/workspace";

const EXAMPLES = [
  "01_getting_started/01_hello_world",
  "01_getting_started/02_cpu_worker",
  "03_advanced_workers/05_load_balancer",
];
const KEY = "rpa_deploy_test_key_0123456789";

/** A request body for every route these examples serve (the test fails when a route has none). */
const BODIES: Record<string, unknown> = {
  "POST /01_getting_started/01_hello_world/gpu/hello": { message: "Hello GPU!" },
  "POST /01_getting_started/02_cpu_worker/cpu/hello": { name: "Flash User" },
  "GET /03_advanced_workers/05_load_balancer/cpu/health": undefined,
  "GET /03_advanced_workers/05_load_balancer/gpu/health": undefined,
  "GET /03_advanced_workers/05_load_balancer/gpu/info": undefined,
  "POST /03_advanced_workers/05_load_balancer/cpu/transform": { text: "they're here", operation: "title" },
  "POST /03_advanced_workers/05_load_balancer/cpu/validate": { text: "Hello world from load balancer" },
  "POST /03_advanced_workers/05_load_balancer/gpu/compute": { numbers: [1, 2, 3, 4, 5] },
};
/** Error answers must match too. */
const ERRORS: [string, unknown][] = [
  ["POST /03_advanced_workers/05_load_balancer/cpu/transform", { text: "x", operation: "bogus" }],
  ["POST /03_advanced_workers/05_load_balancer/gpu/compute", { numbers: [] }],
];

let ws = "";
let em: Emulator;
const cache = () => join(ws, ".flash", "worker-cache");

function env(): Record<string, string> {
  return {
    RUNPOD_API_KEY: KEY,
    RUNPOD_API_BASE_URL: em.apiBaseUrl,
    RUNPOD_ENDPOINT_BASE_URL: em.endpointBaseUrl,
    RUNPOD_LB_BASE_URL: em.lbBaseUrl,
    NO_COLOR: "1",
  };
}

/** Run a flash command without blocking this process (the emulator answers from it). */
async function flash(
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number; out: string; ms: number }> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: ws,
    env: { ...process.env, ...env(), ...extra },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  return { ...(await finished(proc)), ms: Math.round(performance.now() - started) };
}

function manifest(): Manifest {
  return JSON.parse(readFileSync(join(ws, ".flash", "flash_manifest.json"), "utf8"));
}

/** Drop what differs between two correct answers (times, durations). */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !/timestamp|_ms$|time_ms/.test(k))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

async function call(
  base: string,
  route: string,
  body: unknown,
  auth = false,
): Promise<{ status: number; body: unknown }> {
  const [method, path] = route.split(" ") as [string, string];
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = `Bearer ${KEY}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: method === "GET" ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text: the assertion shows it
  }
  return { status: res.status, body: parsed };
}

function endpointsNamed(): Map<string, { id: string; version: number; workersMax: number }> {
  return new Map(
    [...em.control.endpoints.values()].map((e) => [e.name, { id: e.id, version: e.version, workersMax: e.workersMax }]),
  );
}

beforeAll(() => {
  ws = makeWorkspace({}, "flash-deploy-");
  for (const ex of EXAMPLES)
    cpSync(join(REPO, ex), join(ws, ex), { recursive: true, filter: (p) => !p.includes("node_modules") });
  writeFileSync(join(ws, ".flashignore"), DEFAULT_FLASHIGNORE);
  writeFileSync(join(ws, ".env"), "SECRET_TOKEN=never-in-the-artifact\n");
  em = startEmulator({ apiKey: KEY, workers: { env: { FLASH_WORKER_CACHE: join(ws, ".flash", "worker-cache") } } });
});

afterAll(async () => {
  await em?.stop();
  if (ws) removeDir(ws);
});

describe("flash deploy to the emulator", () => {
  test("deploy, every route through the mothership as through flash run, redeploy, change, remove, undeploy", async () => {
    // ── first deploy ──
    const first = await flash(["deploy", "--yes"]);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("5 to create, 0 to update, 0 to delete, 0 to keep");
    expect(first.out).toMatch(/App URL: http:\/\/127\.0\.0\.1:\d+\/lb\/[a-z0-9]{14}/);
    expect(first.out).toContain('-H "Authorization: Bearer $RUNPOD_API_KEY"');
    expect(first.out).not.toContain(KEY);
    const m = manifest();
    const mothership = [...em.control.endpoints.values()].find((e) => e.name.startsWith(`${m.mothership}`))!;
    expect(mothership.type).toBe("LB");
    const base = em.lbBaseUrl.replace("{id}", mothership.id);
    const routes = Object.keys(m.routes[m.mothership]!).sort();
    expect(routes).toEqual(Object.keys(BODIES).sort());
    // The artifact has the sources but never .env or the tests.
    const { readTar } = await import("../../core/deploy/tar");
    const paths = readTar(new Uint8Array(readFileSync(join(ws, ".flash", "artifact.tar.gz")))).map((e) => e.path);
    expect(paths).toContain("03_advanced_workers/05_load_balancer/workers/cpu/endpoint.ts");
    expect(paths).toContain("flash_manifest.json");
    expect(paths.some((p) => p.endsWith(".env") || p.endsWith(".test.ts"))).toBe(false);

    // ── every route: deployed (through the mothership's LB URL, with the key) vs flash run ──
    const t0 = performance.now();
    const firstAnswer = await call(base, routes[0]!, BODIES[routes[0]!], true);
    const coldMs = Math.round(performance.now() - t0);
    expect(firstAnswer.status, JSON.stringify(firstAnswer.body)).toBeLessThan(500);
    let local: FlashProcess | undefined;
    try {
      local = await startFlash(ws, [], { FLASH_WORKER_CACHE: cache() });
      for (const route of routes) {
        const deployed = await call(base, route, BODIES[route], true);
        const live = await call(local.url, route, BODIES[route]);
        expect({ route, status: deployed.status }).toEqual({ route, status: live.status });
        expect(stable(deployed.body)).toEqual(stable(live.body));
      }
      for (const [route, body] of ERRORS) {
        const deployed = await call(base, route, body, true);
        const live = await call(local.url, route, body);
        expect(deployed.status).toBe(live.status);
        expect([400, 422]).toContain(deployed.status);
        expect(stable(deployed.body)).toEqual(stable(live.body));
      }
    } finally {
      await local?.stop();
    }
    // Every endpoint's workers were containers of its template's image, started by its start command: the stock
    // images' (Bun installed from the release on the GPU image), the artifact unpacked from where Runpod mounts it.
    const images = new Set<string>();
    for (const e of em.control.endpoints.values()) {
      const template = em.control.templateOf(e)!;
      const image = template.imageName.replace(/:.*/, "");
      expect({ endpoint: e.name, launch: em.supervisor.launch(e).kind }).toEqual({
        endpoint: e.name,
        launch: "container",
      });
      images.add(image);
      expect(template.dockerArgs).toContain('"$FLASH_DEPLOY_START" | base64 -d');
      expect(em.logs.linesOf(e.id)).toContain(`create container ${e.name}`);
    }
    expect([...images].sort()).toEqual(["oven/bun", "runpod/pytorch"]);
    // Without the key the platform refuses (the mothership URL is not public).
    expect((await call(base, routes[0]!, BODIES[routes[0]!])).status).toBe(401);
    // A deployed worker runs only declared functions: no shipped-code route.
    const cpu = [...em.control.endpoints.values()].find((e) => e.name.startsWith("03_05_cpu"))!;
    const execute = await call(
      em.lbBaseUrl.replace("{id}", cpu.id),
      "POST /execute",
      { flash: 1, bundle: {}, request: {} },
      true,
    );
    expect(execute.status).toBe(404);
    // A plain HTTP client's JSON fields bind to the function's parameters by name (transform(text, operation)).
    const direct = await call(
      em.lbBaseUrl.replace("{id}", cpu.id),
      "POST /transform",
      { text: "hello world", operation: "title" },
      true,
    );
    expect(direct.status, JSON.stringify(direct.body)).toBe(200);
    expect(direct.body).toMatchObject({ transformed: "Hello World", operation: "title" });

    // ── redeploy with no change: nothing changes ──
    const before = endpointsNamed();
    const again = await flash(["deploy", "--yes"]);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("0 to create, 0 to update, 0 to delete, 5 to keep");
    expect(again.out).toContain("artifact unchanged: no upload");
    expect(endpointsNamed()).toEqual(before);
    expect(em.flashApps.builds.size).toBe(1);

    // ── one config changed: that endpoint is updated (the mothership imports the file, so its code rolls too) ──
    const cpuFile = join(ws, "01_getting_started/02_cpu_worker/cpu_worker.ts");
    writeFileSync(cpuFile, readFileSync(cpuFile, "utf8").replace("workersMax: 3,", "workersMax: 2,"));
    const plan = await flash(["deploy", "--dry-run"]);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toMatch(/update\s+01_02_cpu\s.*workersMax: 3 → 2; code changed/);
    expect(plan.out).toContain("0 to create, 2 to update, 0 to delete, 3 to keep");
    expect(plan.out).toContain("--dry-run: nothing changed.");
    expect(endpointsNamed()).toEqual(before);
    const changed = await flash(["deploy", "--yes"]);
    expect(changed.code, changed.out).toBe(0);
    const after = endpointsNamed();
    const cpuName = [...after.keys()].find((n) => n.startsWith("01_02_cpu"))!;
    expect(after.get(cpuName)).toEqual({
      ...before.get(cpuName)!,
      workersMax: 2,
      version: after.get(cpuName)!.version,
    });
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, e] of after) expect(e.id).toBe(before.get(name)!.id);

    // ── an example removed: its endpoint is deleted ──
    rmSync(join(ws, "01_getting_started/01_hello_world"), { recursive: true });
    const removed = await flash(["deploy", "--yes"]);
    expect(removed.code, removed.out).toBe(0);
    expect(removed.out).toMatch(/delete\s+01_01_hello_world_gpu/);
    expect([...endpointsNamed().keys()].some((n) => n.startsWith("01_01_hello_world_gpu"))).toBe(false);
    expect(endpointsNamed().size).toBe(4);

    // ── an endpoint flash did not create, in the same environment, is never touched ──
    const envId = [...em.flashApps.environments.values()][0]!.id;
    const foreign = await em.control.execute(
      `mutation { saveEndpoint(input: { name: "someone-elses", templateId: "${cpu.templateId}", flashEnvironmentId: "${envId}", workersMax: 0 }) { id } }`,
    );
    const foreignId = (foreign.body.data as { saveEndpoint: { id: string } }).saveEndpoint.id;

    // ── undeploy everything flash deployed ──
    const refused = await flash(["undeploy", "--all"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("pass --yes");
    expect(endpointsNamed().size).toBe(5);
    const down = await flash(["undeploy", "--all", "--yes"]);
    expect(down.code, down.out).toBe(0);
    expect(down.out).toContain("Deleted 4 endpoint(s)");
    expect([...em.control.endpoints.keys()]).toEqual([foreignId]);
    const envDelete = await flash(["env", "delete", "production", "--yes"]);
    expect(envDelete.code).toBe(1);
    expect(envDelete.out).toContain("endpoints flash did not deploy");
    process.stderr.write(
      `[deploy figures] first deploy ${first.ms} ms, unchanged redeploy ${again.ms} ms, mothership cold first answer ${coldMs} ms\n`,
    );
  }, 240_000);
});
