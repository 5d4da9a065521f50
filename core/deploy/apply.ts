/**
 * Apply a plan: create and update endpoints in parallel, then delete the ones whose resource is gone, reporting
 * progress per endpoint. Each step is one template save and one endpoint save through the same GraphQL mutations
 * flash uses for live endpoints (core/runpod/graphql.ts); a delete follows the documented order of
 * core/runpod/platform.ts `teardownEndpoint` (0/0, delete, list to verify), then deletes the template.
 */
import { logger } from "../base/log";
import type { RunpodGraphql } from "../runpod/graphql";
import { type DeployedResource, digestEnv } from "./manifest";
import type { RecordWriter } from "./record";
import type { EnvVarInput } from "../runpod/platform";
import type { Plan, PlanRow } from "./plan";

const alog = logger("deploy");

/** The outcome of applying a plan. */
export interface ApplyResult {
  /** What is deployed now, by resource (kept, created and updated ones). */
  deployed: Record<string, DeployedResource>;
  counts: { created: number; updated: number; deleted: number; kept: number };
  failures: { resource: string; action: string; message: string }[];
}

/** How a plan is applied: the record written after each step, and which lingering templates are ours. */
export interface ApplyOptions {
  /** Stores each created, updated or deleted endpoint as soon as it is (an interrupted deploy loses nothing). */
  writer?: RecordWriter;
  /** Whether a template whose name clashes is this environment's (then it is reused, not renamed). */
  ours?: (template: { id: string; env: EnvVarInput[] }) => boolean;
  /** Finds (or creates) the network volumes a plan names (REST v2). */
  volumes?: VolumeFinder;
}

/** Finds (or creates) a network volume by name and data center: REST v2 (`/v2/network-volumes`; rest-v2.ts). */
interface VolumeFinder {
  ensureNetworkVolume(volume: { name: string; size: number; dataCenterId: string }): Promise<string>;
}

/**
 * One lookup-or-create per volume (name and data center) for the whole apply: endpoints that name the same volume
 * are created in parallel, and each listing before any create would make its own volume (Runpod allows duplicate
 * names), so they would not share their files. runpod/flash gives a NetworkVolume the identity md5(name:datacenter)
 * and deploys each identity once (core/resources/network_volume.py, resource_manager.py).
 */
function oncePerVolume(volumes: VolumeFinder): VolumeFinder {
  const found = new Map<string, Promise<string>>();
  return {
    ensureNetworkVolume(volume) {
      const key = `${volume.name}\0${volume.dataCenterId}`;
      let id = found.get(key);
      if (!id) {
        id = volumes.ensureNetworkVolume(volume);
        found.set(key, id);
        id.catch(() => found.delete(key)); // a failed lookup is retried by the next endpoint that names it
      }
      return id;
    },
  };
}

async function createOrUpdate(gql: RunpodGraphql, row: PlanRow, opts: ApplyOptions): Promise<DeployedResource> {
  const d = row.desired!;
  const prev = row.action === "update" ? row.previous : undefined;
  const input = { ...d.template, name: prev?.template_name ?? `${d.endpointName}__${d.hash.slice(0, 8)}` };
  // A template left by an undeploy (Runpod refuses its delete for a while) or by an interrupted deploy has the same
  // name: RunpodGraphql.createTemplate reuses it when it carries this environment's marker.
  const template = prev?.template_id
    ? await gql.saveTemplate({ ...input, id: prev.template_id })
    : await gql.createTemplate(input, opts.ours ?? (() => false));
  // A volume named in the code is found on the account (or created) first, as runpod/flash does.
  if (d.networkVolume && !opts.volumes) throw new Error(`${d.endpointName} names a network volume: no volume client`);
  const volumeId = d.networkVolume ? await opts.volumes!.ensureNetworkVolume(d.networkVolume) : undefined;
  const endpoint = volumeId ? { ...d.endpoint, networkVolumeId: volumeId } : d.endpoint;
  const saved = await gql.saveEndpoint({ ...endpoint, id: prev?.endpoint_id, templateId: template.id } as Parameters<
    RunpodGraphql["saveEndpoint"]
  >[0]);
  return {
    endpoint_id: saved.id,
    endpoint_name: d.endpointName,
    template_id: template.id,
    template_name: template.name,
    desired_hash: d.hash,
    endpoint,
    template: { ...d.template, env: digestEnv(d.template.env) },
  };
}

/** Delete the endpoint, then its template unless another endpoint uses it; returns whether the template is gone. */
async function remove(gql: RunpodGraphql, row: PlanRow): Promise<boolean> {
  const prev = row.previous!;
  await gql.deleteEndpoint(prev.endpoint_id);
  if (!prev.template_name) return true;
  // Two endpoints may share a template (a duplicate of an interrupted or concurrent deploy): keep it for the other.
  if ((await gql.listEndpoints()).some((e) => e.templateId === prev.template_id)) return true;
  try {
    await gql.deleteTemplate(prev.template_name);
    return true;
  } catch (err) {
    // Runpod refuses it for up to 2 minutes after the endpoint's last use: recorded, and retried by the next
    // deploy, undeploy or env delete.
    alog.debug(`template ${prev.template_name} not deleted yet: ${(err as Error).message}`);
    return false;
  }
}

/** Apply every change of the plan; never throws for one endpoint's failure (see `failures`). */
export async function applyPlan(gql: RunpodGraphql, plan: Plan, opts: ApplyOptions = {}): Promise<ApplyResult> {
  opts = { ...opts, volumes: opts.volumes && oncePerVolume(opts.volumes) };
  const result: ApplyResult = { deployed: {}, counts: { created: 0, updated: 0, deleted: 0, kept: 0 }, failures: [] };
  const step = async (row: PlanRow, work: () => Promise<void>) => {
    const started = performance.now();
    alog.info(
      `${row.action === "delete" ? "deleting" : row.action === "create" ? "creating" : "updating"} ${row.endpointName}…`,
    );
    try {
      await work();
      alog.success(`${row.action}d ${row.endpointName} in ${Math.round(performance.now() - started)} ms`);
    } catch (err) {
      const message = (err as Error).message;
      result.failures.push({ resource: row.resource, action: row.action, message });
      alog.error(`${row.action} ${row.endpointName} failed: ${message}`);
      if (row.previous && row.action !== "delete") result.deployed[row.resource] = row.previous;
    }
  };
  for (const row of plan.rows) {
    if (row.action !== "keep") continue;
    result.deployed[row.resource] = row.previous!;
    result.counts.kept++;
  }
  const applyRow = (row: PlanRow) =>
    step(row, async () => {
      const done = await createOrUpdate(gql, row, opts);
      result.deployed[row.resource] = done;
      await opts.writer?.set(row.resource, done);
      if (row.action === "create") result.counts.created++;
      else result.counts.updated++;
    });
  const changed = plan.rows.filter((r) => r.action === "create" || r.action === "update");
  await Promise.all(changed.filter((r) => !r.redesire).map(applyRow));
  // The mothership last: its env names the ids of the endpoints just created.
  for (const row of changed.filter((r) => r.redesire)) {
    const ids: Record<string, string> = {};
    for (const d of Object.values(result.deployed))
      if (d.endpoint_name !== row.endpointName) ids[d.endpoint_name] = d.endpoint_id;
    await applyRow({ ...row, desired: row.redesire!(ids) });
  }
  await Promise.all(
    plan.rows
      .filter((r) => r.action === "delete")
      .map((row) =>
        step(row, async () => {
          const templateGone = await remove(gql, row);
          await opts.writer?.remove(row.resource, row.previous?.template_name, templateGone);
          result.counts.deleted++;
        }),
      ),
  );
  return result;
}
