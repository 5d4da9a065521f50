/**
 * `flash deploy`: build, resolve the app and environment as the Python SDK does (runpod/flash
 * src/runpod_flash/cli/commands/deploy.py `_resolve_environment`: a missing app is created with the named or
 * `production` environment; a named missing environment is created; without a name the only environment is
 * picked, none means `production` is created, several is an error), plan, confirm, upload the artifact, apply,
 * and record what was deployed on the build.
 */
import { readFileSync } from "node:fs";
import { logger } from "../base/log";
import { RunpodGraphql } from "../runpod/graphql";
import { RunpodHttp } from "../runpod/http";
import type { RunpodUrls } from "../runpod/connection";
import { applyPlan, type ApplyResult } from "./apply";
import type { BuildResult } from "./build";
import { FlashAppClient, type FlashApp, type FlashEnvironment } from "./flash-app-client";
import { type DeployedResource, type Manifest, storedRecord } from "./manifest";
import { setting } from "../base/settings";
import { makePlan, type Plan } from "./plan";

const dlog = logger("deploy");

/** How to reach Runpod (or an emulator). */
export interface Connection {
  apiKey: string;
  urls: RunpodUrls;
}

/** Clients of one connection. */
export function clients(conn: Connection): { gql: RunpodGraphql; apps: FlashAppClient } {
  const gql = new RunpodGraphql(new RunpodHttp(conn.apiKey), conn.urls.apiBaseUrl);
  return { gql, apps: new FlashAppClient(gql) };
}

/** The app and environment a deploy goes to, and what was created on the way (or, for a dry run, would be). */
interface Resolved {
  app: FlashApp;
  environment: FlashEnvironment;
  created: string[];
  /** A dry run: what a real deploy would create first (nothing was). */
  wouldCreate: string[];
}

/** An app or environment a dry run plans against without creating it: nothing deployed, no build. */
function planned<T extends FlashApp | FlashEnvironment>(value: Omit<T, "id">): T {
  return { ...value, id: "" } as T;
}

/**
 * Find or create the app and environment (see the module comment for the rules). A dry run creates nothing: a
 * missing app or environment is planned as empty and listed in `wouldCreate`.
 */
async function resolveEnvironment(
  apps: FlashAppClient,
  appName: string,
  envName?: string,
  dryRun = false,
): Promise<Resolved> {
  const created: string[] = [];
  const wouldCreate: string[] = [];
  const make = {
    app: async () => {
      if (dryRun) {
        wouldCreate.push(`app ${appName}`);
        return planned<FlashApp>({ name: appName, flashEnvironments: [], flashBuilds: [] });
      }
      created.push(`app ${appName}`);
      return apps.createApp(appName);
    },
    env: async (app: FlashApp, name: string) => {
      if (dryRun || !app.id) {
        wouldCreate.push(`environment ${name}`);
        return planned<FlashEnvironment>({ name, state: "", activeBuildId: null, endpoints: [] });
      }
      created.push(`environment ${name}`);
      return apps.createEnvironment(app.id, name);
    },
  };
  const app = (await apps.appByName(appName)) ?? (await make.app());
  const envs = app.flashEnvironments;
  let env: FlashEnvironment | undefined;
  if (envName) {
    env = envs.find((e) => e.name === envName) ?? (await make.env(app, envName));
  } else if (envs.length === 1) {
    env = envs[0]!;
  } else if (envs.length === 0) {
    env = await make.env(app, "production");
  } else {
    throw new Error(
      `app ${appName} has several environments (${envs.map((e) => e.name).join(", ")}): choose one with --env <name>`,
    );
  }
  // Fresh view: endpoints attached and the active build.
  const environment = env.id ? await apps.environment(env.id) : env;
  return { app, environment, created, wouldCreate };
}

/** What the environment's active build recorded at the last deploy. */
export async function previousDeploy(apps: FlashAppClient, env: FlashEnvironment): Promise<Manifest | undefined> {
  if (!env.activeBuildId) return undefined;
  const build = await apps.build(env.activeBuildId);
  const m = build?.manifest;
  if (!m || typeof m !== "object") return undefined;
  return (typeof m === "string" ? JSON.parse(m) : m) as Manifest;
}

/** A prepared deploy: the plan and everything needed to apply it. */
export interface PreparedDeploy {
  resolved: Resolved;
  plan: Plan;
  previous?: Manifest;
  /** Whether the artifact differs from the active build's (only then is it uploaded). */
  upload: boolean;
}

/** Resolve, read the previous deploy and plan (changes nothing but a missing app or environment; a dry run nothing). */
export async function prepareDeploy(
  conn: Connection,
  build: BuildResult,
  appName: string,
  envName?: string,
  opts: { dryRun?: boolean } = {},
): Promise<PreparedDeploy> {
  const { apps } = clients(conn);
  const resolved = await resolveEnvironment(apps, appName, envName, opts.dryRun);
  const previous = await previousDeploy(apps, resolved.environment);
  const ctx = {
    appName,
    environment: resolved.environment,
    // A separate (Restricted) key for the mothership keeps the account key off Runpod (docs get-started/api-keys).
    apiKey: setting("FLASH_MOTHERSHIP_API_KEY")?.trim() || conn.apiKey,
    urls: conn.urls,
    env: build.env,
  };
  const plan = makePlan(build.manifest, ctx, (previous?.deployed ?? {}) as Record<string, DeployedResource>);
  return { resolved, plan, previous, upload: previous?.artifact_sha256 !== build.sha256 };
}

/** The outcome of a deploy. */
export interface DeployOutcome {
  buildId: string;
  uploaded: boolean;
  applied: ApplyResult;
  manifest: Manifest;
  /** Resource → endpoint URL. */
  urls: Record<string, string>;
  ms: { upload: number; apply: number };
}

/** The URL of a deployed endpoint (LB: its own host; queue: the v2 base). */
export function endpointUrl(urls: RunpodUrls, id: string, loadBalanced: boolean): string {
  return loadBalanced ? urls.lbBaseUrl.replaceAll("{id}", id) : `${urls.endpointBaseUrl}/${id}`;
}

/** Upload (when the artifact changed), make the build active, apply the plan, record the result on the build. */
export async function applyDeploy(
  conn: Connection,
  build: BuildResult,
  prepared: PreparedDeploy,
): Promise<DeployOutcome> {
  const { gql, apps } = clients(conn);
  const env = prepared.resolved.environment;
  let buildId = env.activeBuildId ?? "";
  const t0 = performance.now();
  if (prepared.upload || !buildId) {
    dlog.info(`uploading the artifact (${(build.artifactBytes / 1048576).toFixed(1)} MB)…`);
    buildId = await apps.uploadBuild(
      prepared.resolved.app.id,
      new Uint8Array(readFileSync(build.artifactPath)),
      build.manifest,
    );
    await apps.deployBuild(env.id, buildId);
  }
  const t1 = performance.now();
  const applied = await applyPlan(gql, prepared.plan);
  const t2 = performance.now();
  const urls: Record<string, string> = {};
  for (const [name, d] of Object.entries(applied.deployed)) {
    urls[name] = endpointUrl(conn.urls, d.endpoint_id, !!build.manifest.resources[name]?.is_load_balanced);
  }
  const manifest: Manifest = {
    ...build.manifest,
    resources_endpoints: urls,
    deployed: Object.fromEntries(Object.entries(applied.deployed).map(([n, d]) => [n, storedRecord(d)])),
    artifact_sha256: build.sha256,
  };
  // Nothing uploaded and nothing changed: the stored record is already this one (a redeploy changes nothing).
  if (prepared.upload || prepared.plan.changes > 0 || !env.activeBuildId)
    await apps.updateBuildManifest(buildId, manifest);
  return {
    buildId,
    uploaded: prepared.upload || !env.activeBuildId,
    applied,
    manifest,
    urls,
    ms: { upload: Math.round(t1 - t0), apply: Math.round(t2 - t1) },
  };
}
