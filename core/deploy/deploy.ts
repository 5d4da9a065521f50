/**
 * `flash deploy`: build, resolve the app and environment as the Python SDK does (runpod/flash
 * src/runpod_flash/cli/commands/deploy.py `_resolve_environment`: a missing app is created with the named or
 * `production` environment; a named missing environment is created; without a name the only environment is
 * picked, none means `production` is created, several is an error), plan, confirm, upload the artifact, apply,
 * and record what was deployed on the build.
 */
import { readFileSync } from "node:fs";
import { formatBytes } from "../base/bytes";
import { logger } from "../base/log";
import { RunpodCatalog } from "../runpod/catalog";
import { RunpodGraphql } from "../runpod/graphql";
import { RunpodRestV2 } from "../runpod/rest-v2";
import { RunpodHttp } from "../runpod/http";
import type { RunpodUrls } from "../runpod/connection";
import { applyPlan, type ApplyResult } from "./apply";
import type { BuildResult } from "./build";
import { FlashAppClient, type FlashApp, type FlashEnvironment } from "./flash-app-client";
import type { DeployedResource, Manifest } from "./manifest";
import { makePlan, type Plan } from "./plan";

const dlog = logger("deploy");

/** How to reach Runpod (or an emulator). */
export interface Connection {
  apiKey: string;
  urls: RunpodUrls;
}

/** Clients of one connection. */
export function clients(conn: Connection): { gql: RunpodGraphql; rest: RunpodRestV2; apps: FlashAppClient } {
  const http = new RunpodHttp(conn.apiKey);
  const gql = new RunpodGraphql(http, conn.urls.apiBaseUrl);
  return { gql, rest: new RunpodRestV2(http, conn.urls.apiBaseUrl), apps: new FlashAppClient(gql) };
}

/** The app and environment a deploy goes to, and what was created on the way. */
interface Resolved {
  app: FlashApp;
  environment: FlashEnvironment;
  created: string[];
}

/** Find or create the app and environment (see the module comment for the rules). */
async function resolveEnvironment(apps: FlashAppClient, appName: string, envName?: string): Promise<Resolved> {
  const created: string[] = [];
  let app = await apps.appByName(appName);
  if (!app) {
    app = await apps.createApp(appName);
    created.push(`app ${appName}`);
  }
  const envs = app.flashEnvironments;
  let env: FlashEnvironment | undefined;
  if (envName) {
    env = envs.find((e) => e.name === envName);
    if (!env) {
      env = await apps.createEnvironment(app.id, envName);
      created.push(`environment ${envName}`);
    }
  } else if (envs.length === 1) {
    env = envs[0]!;
  } else if (envs.length === 0) {
    env = await apps.createEnvironment(app.id, "production");
    created.push("environment production");
  } else {
    throw new Error(
      `app ${appName} has several environments (${envs.map((e) => e.name).join(", ")}): choose one with --env <name>`,
    );
  }
  // Fresh view: endpoints attached and the active build.
  return { app, environment: await apps.environment(env.id), created };
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

/** Resolve, read the previous deploy and plan (changes nothing but a missing app or environment). */
export async function prepareDeploy(
  conn: Connection,
  build: BuildResult,
  appName: string,
  envName?: string,
): Promise<PreparedDeploy> {
  const { apps, rest } = clients(conn);
  // The cost column from Runpod's catalog, read while the app is resolved (the published table when it fails).
  const prices = new RunpodCatalog(rest).prices();
  const resolved = await resolveEnvironment(apps, appName, envName);
  const previous = await previousDeploy(apps, resolved.environment);
  const ctx = { appName, environment: resolved.environment, apiKey: conn.apiKey, urls: conn.urls };
  const deployed = (previous?.deployed ?? {}) as Record<string, DeployedResource>;
  const plan = makePlan(build.manifest, ctx, deployed, await prices);
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
  const { gql, rest, apps } = clients(conn);
  const env = prepared.resolved.environment;
  let buildId = env.activeBuildId ?? "";
  const t0 = performance.now();
  if (prepared.upload || !buildId) {
    dlog.info(`uploading the artifact (${formatBytes(build.artifactBytes)})…`);
    buildId = await apps.uploadBuild(
      prepared.resolved.app.id,
      new Uint8Array(readFileSync(build.artifactPath)),
      build.manifest,
    );
    await apps.deployBuild(env.id, buildId);
  }
  const t1 = performance.now();
  const applied = await applyPlan(gql, prepared.plan, rest);
  const t2 = performance.now();
  const urls: Record<string, string> = {};
  for (const [name, d] of Object.entries(applied.deployed)) {
    urls[name] = endpointUrl(conn.urls, d.endpoint_id, !!build.manifest.resources[name]?.is_load_balanced);
  }
  const manifest: Manifest = {
    ...build.manifest,
    resources_endpoints: urls,
    deployed: applied.deployed,
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
