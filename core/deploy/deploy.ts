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
import { transferProgress } from "../base/progress";
import { withSpinner } from "../base/spinner";
import { RunpodCatalog } from "../runpod/catalog";
import { RunpodGraphql } from "../runpod/graphql";
import { RunpodRestV2 } from "../runpod/rest-v2";
import { RunpodHttp } from "../runpod/http";
import type { RunpodUrls } from "../runpod/connection";
import { applyPlan, type ApplyResult } from "./apply";
import type { BuildResult } from "./build";
import { FlashAppClient, type FlashApp, type FlashEnvironment } from "./flash-app-client";
import type { DeployedResource, Manifest } from "./manifest";
import { ADOPTED, deletePendingTemplates, markedFor, readRecord, RecordWriter } from "./record";
import { setting } from "../base/settings";
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

/** A prepared deploy: the plan and everything needed to apply it. */
export interface PreparedDeploy {
  resolved: Resolved;
  plan: Plan;
  previous?: Manifest;
  /** The record the plan was made from: recorded endpoints, adopted ones, templates still to delete. */
  record: { deployed: Record<string, DeployedResource>; pending: string[] };
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
  const { apps, rest } = clients(conn);
  // The cost column from Runpod's catalog, read while the app is resolved (the published table when it fails).
  const prices = new RunpodCatalog(rest).prices();
  const resolved = await resolveEnvironment(apps, appName, envName, opts.dryRun);
  const { manifest: previous, deployed, pending } = await readRecord(apps, resolved.environment, appName);
  const ctx = {
    appName,
    environment: resolved.environment,
    // A separate (Restricted) key for the mothership keeps the account key off Runpod (docs get-started/api-keys).
    apiKey: setting("FLASH_MOTHERSHIP_API_KEY")?.trim() || conn.apiKey,
    urls: conn.urls,
    env: build.env,
  };
  const plan = makePlan(build.manifest, ctx, deployed, await prices);
  return {
    resolved,
    plan,
    previous,
    record: { deployed, pending },
    upload: previous?.artifact_sha256 !== build.sha256,
  };
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

/**
 * Upload (when the artifact changed) a build that carries the current record, make it active, then apply the plan,
 * storing the record on it after every endpoint created, updated or deleted (record.ts): a deploy stopped at any
 * point leaves an active build that names everything it created, and the next deploy adopts the rest by marker.
 */
export async function applyDeploy(
  conn: Connection,
  build: BuildResult,
  prepared: PreparedDeploy,
  opts: { progress?: boolean } = {},
): Promise<DeployOutcome> {
  const { gql, rest, apps } = clients(conn);
  const env = prepared.resolved.environment;
  const appName = prepared.resolved.app.name;
  const pending = await deletePendingTemplates(gql, prepared.record.pending);
  const base: Manifest = { ...build.manifest, artifact_sha256: build.sha256 };
  let buildId = env.activeBuildId ?? "";
  const t0 = performance.now();
  const uploaded = prepared.upload || !buildId;
  if (uploaded) {
    dlog.info(`uploading the artifact (${formatBytes(build.artifactBytes)})…`);
    const carried = new RecordWriter(apps, "", base, prepared.record.deployed, pending).manifest();
    // Bytes, rate and ETA while it goes (a terminal's one line, or a log line every 5 s); none for --json.
    const progress =
      opts.progress === false
        ? undefined
        : () => transferProgress("upload", build.artifactBytes, { plain: (line) => dlog.info(line) });
    buildId = await apps.uploadBuild(
      prepared.resolved.app.id,
      new Uint8Array(readFileSync(build.artifactPath)),
      carried,
      progress,
    );
    await apps.deployBuild(env.id, buildId);
  }
  const writer = new RecordWriter(apps, buildId, base, prepared.record.deployed, pending);
  // Adopted endpoints and retried templates change the record before any step does.
  if (!uploaded && (pending.length !== prepared.record.pending.length || hasAdopted(prepared.record.deployed)))
    await writer.save();
  const t1 = performance.now();
  const ours = (t: { env: { key: string; value: string }[] }) => markedFor(t.env, appName, env.id) !== undefined;
  const apply = () => applyPlan(gql, prepared.plan, { writer, ours, volumes: rest });
  // At a terminal, a spinner with the elapsed time between the endpoints' own lines (none for --json).
  const applied =
    opts.progress === false || prepared.plan.changes === 0
      ? await apply()
      : await withSpinner(`applying ${prepared.plan.changes} change(s) to ${appName} / ${env.name}`, apply);
  const t2 = performance.now();
  const urls: Record<string, string> = {};
  for (const [name, d] of Object.entries(applied.deployed)) {
    urls[name] = endpointUrl(conn.urls, d.endpoint_id, !!build.manifest.resources[name]?.is_load_balanced);
  }
  const failedDeletes = new Set(applied.failures.filter((f) => f.action === "delete").map((f) => f.resource));
  writer.retain((name) => name in applied.deployed || failedDeletes.has(name));
  // Nothing uploaded and nothing changed: the stored record is already this one (a redeploy changes nothing).
  if (uploaded || prepared.plan.changes > 0) await writer.rebase({ ...base, resources_endpoints: urls });
  return {
    buildId,
    uploaded,
    applied,
    manifest: writer.manifest(),
    urls,
    ms: { upload: Math.round(t1 - t0), apply: Math.round(t2 - t1) },
  };
}

/** Whether a record holds an endpoint adopted by marker (not yet written on the build). */
function hasAdopted(deployed: Record<string, DeployedResource>): boolean {
  return Object.values(deployed).some((d) => d.desired_hash === ADOPTED);
}
