/**
 * The doctor's deploy steps, on a one-example workspace (a queue function, a load-balanced one, and a router that
 * calls each, served by the default mothership): the deployed start commands checked locally (no key, $0); deploy,
 * undeploy and deploy again within a minute (Runpod refuses a template delete for up to 2 minutes after its
 * endpoint's last use, docs sdks/graphql/manage-pod-templates); and the mothership's reach: the first route call
 * through the app URL from a cold mothership, then a route that calls a cold load-balanced worker behind it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildResult } from "../deploy/build";
import type { Connection, DeployOutcome } from "../deploy/deploy";
import type { FlashApp } from "../deploy/flash-app-client";
import { RunpodHttp } from "../runpod/http";
import { RunpodJobs } from "../runpod/jobs";
import { type Conn, type DoctorCreated, fmt, restOf } from "./shared";

/** The example the deploy steps build: two functions and a router with one route per function. */
function deployModule(tag: string): string {
  return `import { CpuLiveLoadBalancer, CpuLiveServerless, Elysia, remote } from "flash";

const queue = new CpuLiveServerless({ name: "flash_doctor_dq_${tag}", workersMin: 0, workersMax: 1, idleTimeout: 5 });
const lb = new CpuLiveLoadBalancer({ name: "flash_doctor_dlb_${tag}", workersMin: 0, workersMax: 1, idleTimeout: 5 });

export const queued = remote(queue, async (x: { n: number }) => ({ doubled: x.n * 2, where: "queue" }));
export const balanced = remote(lb, async (x: { n: number }) => ({ doubled: x.n * 2, where: "lb" }), {
  method: "POST",
  path: "/double",
});

export const doctor_router = new Elysia()
  .post("/queue", () => queued({ n: 21 }))
  .post("/lb", () => balanced({ n: 2 }));
`;
}

/** Write the deploy steps' workspace under `dir` (its app is named after the tag). */
function writeDeployWorkspace(dir: string, tag: string): string {
  mkdirSync(join(dir, "01_doctor", "01_reach"), { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "flash-doctor-deploy", private: true, type: "module" }),
  );
  writeFileSync(join(dir, "01_doctor", "01_reach", "doctor_worker.ts"), deployModule(tag));
  return dir;
}

/** Build the deploy steps' workspace as `flash deploy` builds it. */
export async function buildDeployWorkspace(dir: string, tag: string): Promise<BuildResult> {
  const { runBuild } = await import("../deploy/build");
  return runBuild({ root: writeDeployWorkspace(dir, tag), app: `flash_doctor_${tag}` });
}

/**
 * Every template's start command run from its image against the built artifact in a throwaway local emulator: the
 * queue worker must take a job, the load-balanced ones (the mothership included) answer /ping 200. Nothing leaves
 * the machine.
 */
export async function checkDeployedStarts(build: BuildResult) {
  const { checkStartCommands } = await import("./start-check");
  const checks = await checkStartCommands(build);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new Error(failed.map((c) => `${c.resource} (${c.image}): ${c.detail}`).join("\n"));
  return checks;
}

/** How the deploy steps reach Runpod, as `flash deploy` does. */
function connectionOf(conn: Conn): Connection {
  return {
    apiKey: conn.key,
    urls: { apiBaseUrl: conn.apiBaseUrl, endpointBaseUrl: conn.endpointBaseUrl, lbBaseUrl: conn.lbBaseUrl },
  };
}

/** One deploy as `flash deploy --yes` makes it; what it created is recorded for the teardown at once. */
async function deployOnce(conn: Conn, build: BuildResult, created: DoctorCreated): Promise<DeployOutcome> {
  const { applyDeploy, prepareDeploy } = await import("../deploy/deploy");
  const c = connectionOf(conn);
  const prepared = await prepareDeploy(c, build, build.app);
  if (prepared.resolved.app.id) created.apps.add(prepared.resolved.app.id);
  const outcome = await applyDeploy(c, build, prepared);
  for (const d of Object.values(outcome.applied.deployed)) created.endpoints.add(d.endpoint_id);
  if (outcome.applied.failures.length) {
    throw new Error(outcome.applied.failures.map((f) => `${f.action} ${f.resource}: ${f.message}`).join("; "));
  }
  return outcome;
}

/** What the redeploy step leaves for the reach step and the teardown. */
export interface Deployed {
  outcome: DeployOutcome;
  app: FlashApp;
}

/**
 * Deploy, undeploy every resource, deploy again, all within a minute: the second deploy must create every endpoint
 * again although Runpod still refuses to delete the first deploy's templates (their names are the same).
 */
export async function redeploy(
  conn: Conn,
  build: BuildResult,
  created: DoctorCreated,
): Promise<Deployed & { detail: string }> {
  const { deployedIn, requireApp, pickEnvironment, undeployResources } = await import("../deploy/undeploy");
  const { clients } = await import("../deploy/deploy");
  const c = connectionOf(conn);
  const t0 = performance.now();
  const first = await deployOnce(conn, build, created);
  const { apps } = clients(c);
  const app = await requireApp(apps, build.app);
  const env = await apps.environment(pickEnvironment(app).id);
  const state = await deployedIn(apps, env, build.app);
  const gone = await undeployResources(c, env, Object.keys(state.deployed), state);
  if (gone.failures.length) throw new Error(`undeploy: ${gone.failures.join("; ")}`);
  for (const d of Object.values(first.applied.deployed)) created.endpoints.delete(d.endpoint_id);
  const t1 = performance.now();
  const second = await deployOnce(conn, build, created);
  const ms = performance.now() - t0;
  const n = Object.keys(second.applied.deployed).length;
  if (second.applied.counts.created !== n) {
    throw new Error(`the second deploy created ${second.applied.counts.created} of ${n} endpoints`);
  }
  return {
    outcome: second,
    app,
    detail:
      `${n} endpoints deployed, undeployed (${gone.pending.length} template(s) Runpod did not release yet) and ` +
      `deployed again in ${fmt(ms)} (undeploy done at ${fmt(t1 - t0)})`,
  };
}

/** Options of the reach step: how long a cold load balancer is waited out, and the pause between tries. */
export interface ReachOptions {
  coldStartMs: number;
  retryDelayMs: number;
}

/**
 * The first route call through the app URL from a cold mothership (the mothership's own cold start), then a route
 * whose function runs on a cold load-balanced worker behind it (the mothership waits that cold start out), then
 * the same route warm. Every call waits out "no workers available" as flash's client does.
 */
export async function reach(conn: Conn, deployed: Deployed, build: BuildResult, opts: ReachOptions): Promise<string> {
  const manifest = build.manifest;
  const mothershipId = deployed.outcome.applied.deployed[manifest.mothership]?.endpoint_id;
  if (!mothershipId) throw new Error("the deploy recorded no mothership endpoint");
  const routes = Object.keys(manifest.routes[manifest.mothership] ?? {});
  const route = (suffix: string) => {
    const key = routes.find((r) => r.startsWith("POST ") && r.endsWith(suffix));
    if (!key) throw new Error(`the mothership has no POST …${suffix} route (routes: ${routes.join(", ")})`);
    return key.slice(5);
  };
  const jobs = new RunpodJobs(
    new RunpodHttp(conn.key, { attempts: 2, baseDelayMs: 200 }),
    { apiBaseUrl: conn.apiBaseUrl, endpointBaseUrl: conn.endpointBaseUrl, lbBaseUrl: conn.lbBaseUrl },
    { lbColdStartMs: opts.coldStartMs, lbRetryDelayMs: opts.retryDelayMs },
  );
  const call = async (path: string, expect: number) => {
    const t0 = performance.now();
    const res = await jobs.lbRequest(mothershipId, { method: "POST", path, body: {} });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) throw new Error(`POST ${path} through the app URL answered ${res.status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { doubled?: number };
    if (body.doubled !== expect) throw new Error(`POST ${path} answered ${text.slice(0, 200)}`);
    return ms;
  };
  const cold = await call(route("/queue"), 42);
  const lbCold = await call(route("/lb"), 4);
  const lbWarm = await call(route("/lb"), 4);
  return (
    `first route call from a cold mothership (a queue worker behind it) ${fmt(cold)}; a route on a cold ` +
    `load-balanced worker behind the warm mothership ${fmt(lbCold)}, warm ${fmt(lbWarm)}`
  );
}

/**
 * Remove the deploy steps' app: its environment's endpoints (as `flash env delete` does, waiting up to
 * `templateWaitMs` for Runpod to release the templates), then the app.
 */
export async function removeDeployed(conn: Conn, app: FlashApp, created: DoctorCreated, templateWaitMs: number) {
  const { deleteEnvironment } = await import("../deploy/undeploy");
  const { clients } = await import("../deploy/deploy");
  const c = connectionOf(conn);
  const { apps } = clients(c);
  const fresh = (await apps.appByName(app.name)) ?? app;
  for (const env of fresh.flashEnvironments) await deleteEnvironment(c, fresh, env, templateWaitMs);
  await apps.deleteApp(app.id);
  created.apps.delete(app.id);
  const listed = new Set((await restOf(conn).listEndpoints()).map((e) => e.id));
  for (const id of [...created.endpoints]) if (!listed.has(id)) created.endpoints.delete(id);
}
