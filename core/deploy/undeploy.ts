/**
 * Taking deploys down: endpoints, environments and apps, only ever what `flash deploy` recorded on the
 * environment's active build (the Python CLI likewise refuses to delete endpoints it does not track:
 * runpod/flash src/runpod_flash/cli/commands/env.py `delete`), each deletion verified by listing afterwards.
 */
import { logger } from "../base/log";
import { applyPlan } from "./apply";
import { clients, type Connection } from "./deploy";
import { deletePendingTemplates, readRecord, RecordWriter } from "./record";
import { sleep } from "../runpod/http";
import { TEMPLATE_DELETE_LAG_MS } from "../runpod/platform";
import type { FlashApp, FlashAppClient, FlashEnvironment } from "./flash-app-client";
import type { DeployedResource, Manifest } from "./manifest";
import { deleteRow, type PlanRow } from "./plan";

const ulog = logger("undeploy");

/** The app, or an error that lists the apps there are. */
export async function requireApp(apps: FlashAppClient, name: string): Promise<FlashApp> {
  const app = await apps.appByName(name);
  if (app) return app;
  const names = (await apps.listApps()).map((a) => a.name);
  throw new Error(
    `no Flash app named ${name}${names.length ? ` (apps: ${names.join(", ")})` : " (this account has none)"}; pass --app`,
  );
}

/** The environment named `envName`, or the app's only one; an error when it is missing or ambiguous. */
export function pickEnvironment(app: FlashApp, envName?: string): FlashEnvironment {
  const envs = app.flashEnvironments;
  if (envName) {
    const env = envs.find((e) => e.name === envName);
    if (!env)
      throw new Error(
        `app ${app.name} has no environment ${envName} (environments: ${envs.map((e) => e.name).join(", ") || "none"})`,
      );
    return env;
  }
  if (envs.length === 1) return envs[0]!;
  if (envs.length === 0) throw new Error(`app ${app.name} has no environments`);
  throw new Error(
    `app ${app.name} has several environments (${envs.map((e) => e.name).join(", ")}): choose one with --env <name>`,
  );
}

/**
 * What flash deployed to an environment (by resource), restricted to endpoints still attached to it, with the
 * endpoints of this app an interrupted deploy did not record adopted by marker (record.ts), and the templates
 * still to delete.
 */
export async function deployedIn(
  apps: FlashAppClient,
  env: FlashEnvironment,
  appName: string,
): Promise<{ manifest?: Manifest; deployed: Record<string, DeployedResource>; pending: string[] }> {
  const fresh = await apps.environment(env.id);
  const { manifest, deployed: all, pending } = await readRecord(apps, fresh, appName);
  const attached = new Set((fresh.endpoints ?? []).map((e) => e.id));
  const deployed: Record<string, DeployedResource> = {};
  for (const [name, d] of Object.entries(all)) if (attached.has(d.endpoint_id)) deployed[name] = d;
  return { manifest, deployed, pending };
}

/**
 * Delete deployed resources of an environment, recording each deletion on its active build as it happens, and the
 * templates Runpod does not release yet as still to delete (tried again first, here and by every later deploy).
 */
export async function undeployResources(
  conn: Connection,
  env: FlashEnvironment,
  names: string[],
  state: { manifest?: Manifest; deployed: Record<string, DeployedResource>; pending: string[] },
): Promise<{ removed: string[]; failures: string[]; pending: string[] }> {
  const { gql, rest, apps } = clients(conn);
  const pending = await deletePendingTemplates(gql, state.pending);
  const writer =
    state.manifest && env.activeBuildId
      ? new RecordWriter(apps, env.activeBuildId, state.manifest, state.deployed, pending)
      : undefined;
  const rows: PlanRow[] = names.map((name) => deleteRow(name, state.deployed[name]!));
  const result = await applyPlan(gql, { rows, changes: rows.length }, { writer, volumes: rest });
  if (writer && !rows.length && pending.length !== state.pending.length) await writer.save();
  const failed = new Set(result.failures.map((f) => f.resource));
  const removed = names.filter((n) => !failed.has(n));
  if (writer && removed.length) {
    const endpoints = { ...(state.manifest?.resources_endpoints ?? {}) };
    for (const n of removed) delete endpoints[n];
    await writer.rebase({ ...state.manifest!, resources_endpoints: endpoints });
  }
  return {
    removed,
    failures: result.failures.map((f) => `${f.resource}: ${f.message}`),
    pending: writer ? writer.snapshot().pending : pending,
  };
}

/**
 * Delete an environment: its flash-deployed endpoints first; endpoints flash did not deploy make it refuse (they
 * are someone else's), then the templates (the record that would keep them for later goes with the environment,
 * so Runpod's refusal of a just-used template is waited out, up to `templateWaitMs`), then the environment itself,
 * verified gone.
 */
export async function deleteEnvironment(
  conn: Connection,
  app: FlashApp,
  env: FlashEnvironment,
  templateWaitMs: number = TEMPLATE_DELETE_LAG_MS + 10_000,
): Promise<string[]> {
  const { apps, gql } = clients(conn);
  const fresh = await apps.environment(env.id);
  const state = await deployedIn(apps, fresh, app.name);
  const ours = new Set(Object.values(state.deployed).map((d) => d.endpoint_id));
  const foreign = (fresh.endpoints ?? []).filter((e) => !ours.has(e.id));
  if (foreign.length) {
    throw new Error(
      `environment ${env.name} has endpoints flash did not deploy (${foreign.map((e) => `${e.name} ${e.id}`).join(", ")}); remove them in the Runpod console first`,
    );
  }
  const names = Object.keys(state.deployed);
  const { removed, failures, pending } = await undeployResources(conn, fresh, names, state);
  if (failures.length) throw new Error(`could not delete every endpoint: ${failures.join("; ")}`);
  let left = pending;
  if (left.length) ulog.info(`waiting for Runpod to release ${left.length} template(s) (up to 2 minutes)…`);
  const until = Date.now() + templateWaitMs;
  for (let pause = 250; left.length && Date.now() < until; pause = Math.min(5000, pause * 2)) {
    await sleep(pause);
    left = await deletePendingTemplates(gql, left);
  }
  if (left.length) {
    ulog.warn(
      `template(s) ${left.join(", ")} could not be deleted yet: delete them at https://console.runpod.io/user/templates`,
    );
  }
  await apps.deleteEnvironment(env.id);
  const after = await apps.appByName(app.name);
  if (after?.flashEnvironments.some((e) => e.id === env.id))
    throw new Error(`environment ${env.name} is still listed after deleteFlashEnvironment`);
  ulog.success(`deleted environment ${env.name} (${removed.length} endpoint(s))`);
  return removed;
}

/** Delete an app: every environment (as `deleteEnvironment`), then the app, verified gone. */
export async function deleteApp(conn: Connection, app: FlashApp): Promise<void> {
  const { apps } = clients(conn);
  for (const env of app.flashEnvironments) await deleteEnvironment(conn, app, env);
  await apps.deleteApp(app.id);
  if (await apps.appByName(app.name)) throw new Error(`app ${app.name} is still listed after deleteFlashApp`);
  ulog.success(`deleted app ${app.name}`);
}
