/**
 * A deploy you can trust, end to end against a running emulator (real subprocesses, real ports): a dry run creates
 * nothing, a mistyped flag changes nothing, undeploy then deploy works although Runpod holds a deleted endpoint's
 * template for a while, a deploy killed after any step (or two at once) converges on the next run, and no secret
 * leaves the machine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_FLASHIGNORE } from "../../core/deploy/artifact";
import { runBuild } from "../../core/deploy/build";
import { applyDeploy, type Connection, clients, prepareDeploy } from "../../core/deploy/deploy";
import { deployedIn, pickEnvironment, requireApp, undeployResources } from "../../core/deploy/undeploy";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { finished, makeWorkspace, REPO, removeDir } from "../helpers/workspace";

const KEY = "rpa_trust_test_key_0123456789";
/** A key restricted to calling endpoints, for the deployed mothership (the emulator accepts it for calls only). */
const RESTRICTED = "rpa_restricted_mothership_key_42";
const EXAMPLE = "01_getting_started/02_cpu_worker";

let em: Emulator;
const workspaces: string[] = [];

beforeAll(() => {
  em = startEmulator({ apiKey: KEY, callKeys: [RESTRICTED] });
});

afterAll(async () => {
  await em?.stop();
  for (const ws of workspaces) removeDir(ws);
});

/** A fresh workspace with one example (its app is named after the temp folder, so each test has its own app). */
function workspace(files: Record<string, string> = {}): string {
  const ws = makeWorkspace({ ".flashignore": DEFAULT_FLASHIGNORE, ...files }, "flash-trust-");
  cpSync(join(REPO, EXAMPLE), join(ws, EXAMPLE), { recursive: true, filter: (p) => !p.includes("node_modules") });
  workspaces.push(ws);
  return ws;
}

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
  ws: string,
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), ...args], {
    cwd: ws,
    env: { ...process.env, ...env(), ...extra },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  return finished(proc);
}

/** The emulator as a connection for the in-process deploy and undeploy (the same calls `flash deploy` makes). */
function conn(apiBaseUrl = em.apiBaseUrl): Connection {
  return {
    apiKey: KEY,
    urls: { apiBaseUrl, endpointBaseUrl: em.endpointBaseUrl, lbBaseUrl: em.lbBaseUrl },
  };
}

/**
 * `flash deploy --yes` in this process: build, resolve, plan, upload, apply (the CLI adds only printing). Checks
 * that only run a deploy to look at what it leaves need no subprocess; the one killed stays a real process.
 */
async function deployHere(
  ws: string,
  apiBaseUrl = em.apiBaseUrl,
): Promise<{ failures: string[]; counts: Record<string, number> }> {
  const build = await runBuild({ root: ws });
  const prepared = await prepareDeploy(conn(apiBaseUrl), build, build.app);
  const outcome = await applyDeploy(conn(apiBaseUrl), build, prepared);
  return { failures: outcome.applied.failures.map((f) => JSON.stringify(f)), counts: outcome.applied.counts };
}

/** `flash undeploy --all --yes` in this process; the names it could not delete. */
async function undeployAllHere(ws: string): Promise<string[]> {
  const { apps } = clients(conn());
  const app = await requireApp(apps, appState(ws).app!.name);
  const env = pickEnvironment(app);
  const state = await deployedIn(apps, env, app.name);
  const { failures } = await undeployResources(conn(), env, Object.keys(state.deployed), state);
  return failures;
}

/** What the emulator holds: apps, endpoints and templates by name. */
function account() {
  return {
    apps: [...em.flashApps.apps.values()].map((a) => a.name).sort(),
    endpoints: [...em.control.endpoints.values()].map((e) => e.name).sort(),
    templates: [...em.control.templates.values()].map((t) => t.name).sort(),
  };
}

describe("a deploy changes only what it says", () => {
  test("--dry-run on a workspace never deployed creates neither the app nor the environment", async () => {
    const ws = workspace();
    const before = account();
    const dry = await flash(ws, ["deploy", "--dry-run"]);
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toMatch(/would create app flash-trust-\w+/);
    expect(dry.out).toContain("would create environment production");
    expect(dry.out).toContain("2 to create, 0 to update, 0 to delete, 0 to keep");
    expect(dry.out).toContain("--dry-run: nothing changed.");
    expect(dry.out).not.toMatch(/\bcreated app\b/);
    expect(account()).toEqual(before);
  }, 60_000);

  test("a mistyped flag exits 2 with a suggestion and changes nothing", async () => {
    const ws = workspace();
    const before = account();
    const typo = await flash(ws, ["deploy", "--dryrun", "--yes"]);
    expect(typo.code, typo.out).toBe(2);
    expect(typo.out).toContain("unknown flag --dryrun for flash deploy: did you mean --dry-run?");
    expect(account()).toEqual(before);
    const run = await flash(ws, ["run", "--prot", "9999"]);
    expect(run.code, run.out).toBe(2);
    expect(run.out).toContain("did you mean --port?");
    const nested = await flash(ws, ["env", "delete", "production", "--yse"]);
    expect(nested.code, nested.out).toBe(2);
    expect(nested.out).toContain("unknown flag --yse for flash env delete: did you mean --yes?");
    // Declared flags in every form still work: aliases, --no-, --flag=value, and anything after "--".
    const help = await flash(ws, ["deploy", "--dry-run", "--env=staging", "-a", "other"]);
    expect(help.code, help.out).toBe(0);
    expect(help.out).toContain("would create environment staging");
  }, 60_000);
});

describe("secrets stay home", () => {
  test("no API key or config env value in .flash/, the artifact or the stored build manifest; secret() is a Runpod secret reference; credential-like and nested-ignored files stay out; the mothership gets a restricted key and the endpoint ids", async () => {
    const VALUE = "tok-plain-value-0123456789";
    const ws = workspace();
    const file = join(ws, EXAMPLE, "cpu_worker.ts");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace(
          'import { CpuInstanceType, CpuLiveServerless, Elysia, logger, remote, t } from "flash";',
          'import { CpuInstanceType, CpuLiveServerless, Elysia, logger, remote, secret, t } from "flash";',
        )
        .replace(
          "idleTimeout: 5, // seconds",
          'idleTimeout: 5, env: { PLAIN_TOKEN: process.env.MY_TOKEN ?? "", HF: secret("HF_TOKEN") },',
        ),
    );
    for (const name of [
      "id_rsa",
      "server.pem",
      "private.key",
      "credentials.json",
      "worker.ts.bak",
      "private_notes.txt",
    ])
      writeFileSync(join(ws, EXAMPLE, name), `${name} ${VALUE}\n`);
    writeFileSync(join(ws, ".env"), `MY_TOKEN=${VALUE}\n`);
    // The example folder's own ignore file applies when the whole workspace is built.
    writeFileSync(join(ws, EXAMPLE, ".gitignore"), "private_notes.txt\n");
    const deploy = await flash(ws, ["deploy", "--yes"], { FLASH_MOTHERSHIP_API_KEY: RESTRICTED });
    expect(deploy.code, deploy.out).toBe(0);
    expect(deploy.out).toContain("left out 5 file(s) that look like credentials or editor leftovers");

    // Nothing on disk under .flash/ holds the key or the value; the artifact has none of the left-out files.
    const { readTar } = await import("../../core/deploy/tar");
    const { readdirSync } = await import("node:fs");
    const flashDir = join(ws, ".flash");
    for (const name of readdirSync(flashDir, { recursive: true }) as string[]) {
      const path = join(flashDir, name);
      if (!statSync(path).isFile()) continue;
      const text = readFileSync(path).toString("latin1");
      expect({ name, key: text.includes(KEY) }).toEqual({ name, key: false });
      expect({ name, value: text.includes(VALUE) }).toEqual({ name, value: false });
    }
    const entries = readTar(new Uint8Array(readFileSync(join(flashDir, "artifact.tar.gz"))));
    const paths = entries.map((e) => e.path);
    for (const name of [
      "id_rsa",
      "server.pem",
      "private.key",
      "credentials.json",
      "worker.ts.bak",
      "private_notes.txt",
    ])
      expect(paths).not.toContain(`${EXAMPLE}/${name}`);
    expect(paths).toContain(`${EXAMPLE}/cpu_worker.ts`);
    for (const e of entries) {
      if (e.type !== "file") continue;
      const text = Buffer.from(e.data).toString("latin1");
      expect({ path: e.path, leaks: text.includes(KEY) || text.includes(VALUE) }).toEqual({
        path: e.path,
        leaks: false,
      });
    }

    // The build manifest stored on Runpod holds neither; the templates carry the value (Runpod's template env) and
    // the secret as a reference; the mothership gets the restricted key, never the account key.
    const app = [...em.flashApps.apps.values()].find((a) => ws.endsWith(a.name))!;
    const builds = [...em.flashApps.builds.values()].filter((b) => b.appId === app.id);
    expect(builds.length).toBe(1);
    const stored = JSON.stringify(builds[0]);
    expect(stored.includes(KEY)).toBe(false);
    expect(stored.includes(VALUE)).toBe(false);
    expect(stored.includes(RESTRICTED)).toBe(false);
    const templates = [...em.control.templates.values()].filter((t) =>
      t.env.some((v) => v.key === "FLASH_APP" && v.value === app.name),
    );
    const cpu = templates.find((t) => t.name.startsWith("01_02_cpu"))!;
    const envOf = (t: typeof cpu) => Object.fromEntries(t.env.map((v) => [v.key, v.value]));
    expect(envOf(cpu).HF).toBe("{{ RUNPOD_SECRET_HF_TOKEN }}");
    expect(envOf(cpu).PLAIN_TOKEN).toBe(VALUE);
    const mothership = templates.find((t) => envOf(t).FLASH_IS_MOTHERSHIP === "true")!;
    expect(envOf(mothership).RUNPOD_API_KEY).toBe(RESTRICTED);
    const cpuEndpoint = [...em.control.endpoints.values()].find((e) => e.templateId === cpu.id)!;
    expect(JSON.parse(envOf(mothership).FLASH_ENDPOINTS!)).toEqual({ [cpuEndpoint.name]: cpuEndpoint.id });
    expect(JSON.stringify(templates).includes(KEY)).toBe(false);

    // No log holds them: deploy's own output, and every worker's log once a call has run through the mothership.
    expect({ key: deploy.out.includes(KEY), value: deploy.out.includes(VALUE) }).toEqual({ key: false, value: false });
    const url = deploy.out.match(/App URL: (\S+)/)?.[1];
    const called = await fetch(`${url}/${EXAMPLE}/cpu/hello`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "logs" }),
    });
    expect(called.status).toBe(200);
    const logged = [...em.control.endpoints.values()].flatMap((e) => em.logs.linesOf(e.id));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.filter((l) => l.includes(KEY) || l.includes(VALUE) || l.includes(RESTRICTED))).toEqual([]);

    // An unchanged redeploy plans nothing (digests compare equal); a changed value is seen as a change.
    const again = await flash(ws, ["deploy", "--dry-run"], { FLASH_MOTHERSHIP_API_KEY: RESTRICTED });
    expect(again.out).toContain("0 to create, 0 to update, 0 to delete, 2 to keep");
    writeFileSync(join(ws, ".env"), `MY_TOKEN=${VALUE}-rotated\n`);
    const rotated = await flash(ws, ["deploy", "--dry-run"], { FLASH_MOTHERSHIP_API_KEY: RESTRICTED });
    expect(rotated.out).toMatch(/update\s+01_02_cpu\s.*env PLAIN_TOKEN changed/);
    expect(rotated.out.includes(VALUE)).toBe(false); // the plan names the change, not the value
  }, 120_000);
});

/** The app of a workspace (named after its folder) and what the emulator holds for it. */
function appState(ws: string) {
  const app = [...em.flashApps.apps.values()].find((a) => ws.endsWith(a.name));
  const envs = [...em.flashApps.environments.values()].filter((e) => app && e.appId === app.id);
  const envIds = new Set(envs.map((e) => e.id));
  const endpoints = [...em.control.endpoints.values()].filter((e) => envIds.has(e.flashEnvironmentId ?? ""));
  const templates = [...em.control.templates.values()].filter((t) =>
    t.env.some((v) => v.key === "FLASH_APP" && v.value === app?.name),
  );
  const active = envs[0]?.activeBuildId ? em.flashApps.builds.get(envs[0].activeBuildId) : undefined;
  const manifest = active?.manifest as
    | { pending_templates?: string[]; deployed?: Record<string, { endpoint_id: string }> }
    | undefined;
  return { app, envs, endpoints, templates, manifest };
}

describe("undeploy, then deploy", () => {
  test("a redeploy reuses the templates Runpod has not released yet; they are recorded and deleted by a later undeploy or env delete", async () => {
    const ws = workspace();
    expect((await deployHere(ws)).failures).toEqual([]);
    const templatesBefore = appState(ws)
      .templates.map((t) => t.name)
      .sort();
    expect(templatesBefore.length).toBe(2);

    // Runpod refuses to delete a template for up to 2 minutes after its endpoint's last use (the emulator's default).
    const down = await flash(ws, ["undeploy", "--all", "--yes"]);
    expect(down.code, down.out).toBe(0);
    let s = appState(ws);
    expect(s.endpoints).toEqual([]);
    expect(s.templates.map((t) => t.name).sort()).toEqual(templatesBefore);
    expect([...(s.manifest?.pending_templates ?? [])].sort()).toEqual(templatesBefore);

    const again = await flash(ws, ["deploy", "--yes"]);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain("must be unique");
    expect(again.out).toContain("2 created");
    s = appState(ws);
    expect(s.endpoints.length).toBe(2);
    // The lingering templates are reused, never renamed copies; one no endpoint uses again (the mothership's env
    // names the new endpoint ids, so its template is a new one) is still to delete.
    const inUse = new Set(s.endpoints.map((e) => em.control.templates.get(e.templateId)!.name));
    expect(s.templates.every((t) => /__[0-9a-f]{8}$/.test(t.name))).toBe(true);
    expect(inUse.has(templatesBefore.find((n) => n.startsWith("01_02_cpu"))!)).toBe(true);
    expect([...(s.manifest?.pending_templates ?? [])].sort()).toEqual(templatesBefore.filter((n) => !inUse.has(n)));

    // Undeploy again; once Runpod releases the templates, the next undeploy deletes them.
    expect(await undeployAllHere(ws)).toEqual([]);
    expect(appState(ws).manifest?.pending_templates?.length).toBe(appState(ws).templates.length);
    em.control.templateDeleteDelayMs = 0;
    try {
      const retry = await flash(ws, ["undeploy", "--all", "--yes"]);
      expect(retry.code, retry.out).toBe(0);
      expect(retry.out).toContain("Nothing deployed");
      s = appState(ws);
      expect(s.templates).toEqual([]);
      expect(s.manifest?.pending_templates ?? []).toEqual([]);

      // env delete removes the endpoints and their templates too (it waits Runpod's delay out).
      expect((await deployHere(ws)).failures).toEqual([]);
      em.control.templateDeleteDelayMs = 300;
      const envDelete = await flash(ws, ["env", "delete", "production", "--yes"]);
      expect(envDelete.code, envDelete.out).toBe(0);
      s = appState(ws);
      expect(s.envs).toEqual([]);
      expect(s.endpoints).toEqual([]);
      expect(s.templates).toEqual([]);
    } finally {
      em.control.templateDeleteDelayMs = 120_000;
    }
  }, 120_000);
});

/**
 * A GraphQL proxy in front of the emulator that lets exactly `limit` mutations through, then holds every later
 * mutation unanswered and reports (once nothing is in flight) that the client is stopped right after its
 * `limit`-th step: the moment to kill it. Queries pass (they change nothing). No timing is involved.
 */
function stepProxy(target: string) {
  let limit = Number.POSITIVE_INFINITY;
  let forwarded = 0;
  let inflight = 0;
  const held: (() => void)[] = [];
  let reached: (() => void) | undefined;
  const check = () => {
    if (held.length && inflight === 0) reached?.();
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const body = await req.text();
      const mutation = /^\s*mutation\b/.test((JSON.parse(body || "{}") as { query?: string }).query ?? "");
      if (mutation && forwarded >= limit) {
        await new Promise<void>((release) => {
          held.push(release);
          check();
        });
        return new Response("stopped", { status: 503 });
      }
      if (mutation) forwarded++;
      inflight++;
      try {
        const res = await fetch(`${target}${url.pathname}${url.search}`, {
          method: req.method,
          headers: req.headers,
          body: body || undefined,
        });
        return new Response(await res.text(), { status: res.status, headers: { "content-type": "application/json" } });
      } finally {
        inflight--;
        check();
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Let `n` more mutations through from now, then hold; resolves when the client waits on the next one. */
    stopAfter(n: number): Promise<void> {
      limit = n;
      forwarded = 0;
      return new Promise<void>((resolve) => {
        reached = resolve;
      });
    },
    mutations: () => forwarded,
    reset() {
      limit = Number.POSITIVE_INFINITY;
      reached = undefined;
      for (const release of held.splice(0)) release();
    },
    stop: () => server.stop(true),
  };
}

/** A workspace with two examples, deployed; then changed so that the next deploy creates, updates and deletes. */
async function deployedThenChanged(): Promise<string> {
  const ws = workspace();
  cpSync(join(REPO, "01_getting_started/01_hello_world"), join(ws, "01_getting_started/01_hello_world"), {
    recursive: true,
    filter: (p) => !p.includes("node_modules"),
  });
  expect((await deployHere(ws)).failures).toEqual([]);
  const cpu = join(ws, EXAMPLE, "cpu_worker.ts");
  writeFileSync(cpu, readFileSync(cpu, "utf8").replace('name: "01_02_cpu"', 'name: "01_02_cpu_b"'));
  const gpu = join(ws, "01_getting_started/01_hello_world/gpu_worker.ts");
  writeFileSync(gpu, readFileSync(gpu, "utf8").replace("workersMax: 3", "workersMax: 2"));
  return ws;
}

/** Every endpoint on the account whose template names this workspace's app (wherever it is attached). */
function endpointsOfApp(ws: string) {
  const app = appState(ws).app!;
  const ours = new Set(
    [...em.control.templates.values()]
      .filter((t) => t.env.some((v) => v.key === "FLASH_APP" && v.value === app.name))
      .map((t) => t.id),
  );
  return [...em.control.endpoints.values()].filter((e) => ours.has(e.templateId));
}

/** The next deploy converges (one endpoint per resource, each recorded), then undeploy --all leaves nothing. */
async function expectConverges(ws: string, context: string): Promise<void> {
  expect({ context, failures: (await deployHere(ws)).failures }).toEqual({ context, failures: [] });
  const names = endpointsOfApp(ws)
    .map((e) => e.name)
    .sort();
  expect({ context, names }).toEqual({
    context,
    names: ["01_01_hello_world_gpu-fb", "01_02_cpu_b-fb", `${appState(ws).app!.name}-mothership-fb`].sort(),
  });
  // The mothership's env names the other endpoints' ids (it finds them without a control-plane lookup).
  const endpoints = endpointsOfApp(ws);
  const mothership = endpoints.find((e) => e.name.endsWith("-mothership-fb"))!;
  const template = em.control.templates.get(mothership.templateId)!;
  const map = JSON.parse(template.env.find((v) => v.key === "FLASH_ENDPOINTS")?.value ?? "null");
  expect({ context, map }).toEqual({
    context,
    map: Object.fromEntries(endpoints.filter((e) => e !== mothership).map((e) => [e.name, e.id])),
  });
  const recorded = new Set(Object.values(appState(ws).manifest?.deployed ?? {}).map((d) => d.endpoint_id));
  expect({
    context,
    unrecorded: endpointsOfApp(ws)
      .filter((e) => !recorded.has(e.id))
      .map((e) => e.name),
  }).toEqual({
    context,
    unrecorded: [],
  });
  expect({ context, failures: await undeployAllHere(ws) }).toEqual({ context, failures: [] });
  expect({ context, left: endpointsOfApp(ws).map((e) => e.name) }).toEqual({ context, left: [] });
}

describe("an interrupted deploy converges", () => {
  test("killed (SIGKILL, SIGINT) after each of its steps, the next deploy converges and undeploy --all removes everything", async () => {
    const proxy = stepProxy(em.apiBaseUrl);
    try {
      // How many mutations an uninterrupted deploy of the change sends.
      const reference = await deployedThenChanged();
      const full = await deployHere(reference, proxy.url);
      expect(full.failures).toEqual([]);
      expect(full.counts).toMatchObject({ created: 1, updated: 2, deleted: 1 });
      const steps = proxy.mutations();
      expect(steps).toBeGreaterThan(6);
      process.stderr.write(`[deploy figures] a deploy that creates, updates and deletes sends ${steps} mutations\n`);
      for (let step = 1; step < steps; step++) {
        const signal = step % 2 ? "SIGKILL" : "SIGINT";
        const ws = await deployedThenChanged();
        const stopped = proxy.stopAfter(step);
        const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "deploy", "--yes"], {
          cwd: ws,
          env: { ...process.env, ...env(), RUNPOD_API_BASE_URL: proxy.url },
          stdout: "ignore",
          stderr: "ignore",
          stdin: "ignore",
        });
        await Promise.race([stopped, proc.exited]);
        proc.kill(signal);
        await proc.exited;
        proxy.reset();
        await expectConverges(ws, `killed with ${signal} after step ${step} of ${steps}`);
      }
    } finally {
      proxy.reset();
      proxy.stop();
    }
  }, 600_000);

  test("two deploys at once: the next deploy converges and undeploy --all removes everything", async () => {
    const ws = await deployedThenChanged();
    const [a, b] = await Promise.all([flash(ws, ["deploy", "--yes"]), flash(ws, ["deploy", "--yes"])]);
    expect([a.code, b.code].includes(0), `${a.out}\n${b.out}`).toBe(true);
    await expectConverges(ws, "after two concurrent deploys");
  }, 120_000);
});
