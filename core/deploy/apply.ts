/**
 * Apply a plan: create and update endpoints in parallel, then delete the ones whose resource is gone, reporting
 * progress per endpoint. Each step is one template save and one endpoint save through the same GraphQL mutations
 * flash uses for live endpoints (core/runpod/graphql.ts); a delete first scales the endpoint to zero workers, as
 * Runpod requires (docs.runpod.io sdks/graphql/manage-endpoints: "set min and max workers to 0" before deleting).
 */
import { logger } from "../base/log";
import type { RunpodGraphql } from "../runpod/graphql";
import type { DeployedResource } from "./manifest";
import type { Plan, PlanRow } from "./plan";

const alog = logger("deploy");

/** The outcome of applying a plan. */
export interface ApplyResult {
  /** What is deployed now, by resource (kept, created and updated ones). */
  deployed: Record<string, DeployedResource>;
  counts: { created: number; updated: number; deleted: number; kept: number };
  failures: { resource: string; action: string; message: string }[];
}

async function saveTemplate(
  gql: RunpodGraphql,
  row: PlanRow,
  name: string,
  id?: string,
): Promise<{ id: string; name: string }> {
  return gql.saveTemplate({ ...row.desired!.template, name, id } as Parameters<RunpodGraphql["saveTemplate"]>[0]);
}

/** Finds (or creates) a network volume by name and data center: REST v2 (`/v2/network-volumes`; rest-v2.ts). */
interface VolumeFinder {
  ensureNetworkVolume(volume: { name: string; size: number; dataCenterId: string }): Promise<string>;
}

async function createOrUpdate(gql: RunpodGraphql, row: PlanRow, volumes: VolumeFinder): Promise<DeployedResource> {
  const d = row.desired!;
  const prev = row.action === "update" ? row.previous : undefined;
  const templateName = prev?.template_name ?? `${d.endpointName}__${d.hash.slice(0, 8)}`;
  const template = await saveTemplate(gql, row, templateName, prev?.template_id);
  // A volume named in the code is found on the account (or created) first, as runpod/flash does.
  const volumeId = d.networkVolume ? await volumes.ensureNetworkVolume(d.networkVolume) : undefined;
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
    template: d.template,
  };
}

async function remove(gql: RunpodGraphql, row: PlanRow): Promise<void> {
  const prev = row.previous!;
  await gql.saveEndpoint({
    ...prev.endpoint,
    id: prev.endpoint_id,
    templateId: prev.template_id,
    workersMin: 0,
    workersMax: 0,
  } as Parameters<RunpodGraphql["saveEndpoint"]>[0]);
  await gql.deleteEndpoint(prev.endpoint_id);
  const still = (await gql.listEndpoints()).some((e) => e.id === prev.endpoint_id);
  if (still) throw new Error(`endpoint ${prev.endpoint_id} is still listed after deleteEndpoint`);
  try {
    await gql.request("mutation deleteTemplate($name: String!) { deleteTemplate(templateName: $name) }", {
      name: prev.template_name,
    });
  } catch (err) {
    // Runpod keeps a template busy for a while after its endpoint is gone; a leftover template costs nothing.
    alog.debug(`template ${prev.template_name} not deleted yet: ${(err as Error).message}`);
  }
}

/** Apply every change of the plan; never throws for one endpoint's failure (see `failures`). */
export async function applyPlan(gql: RunpodGraphql, plan: Plan, volumes: VolumeFinder): Promise<ApplyResult> {
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
  await Promise.all(
    plan.rows
      .filter((r) => r.action === "create" || r.action === "update")
      .map((row) =>
        step(row, async () => {
          result.deployed[row.resource] = await createOrUpdate(gql, row, volumes);
          if (row.action === "create") result.counts.created++;
          else result.counts.updated++;
        }),
      ),
  );
  await Promise.all(
    plan.rows
      .filter((r) => r.action === "delete")
      .map((row) =>
        step(row, async () => {
          await remove(gql, row);
          result.counts.deleted++;
        }),
      ),
  );
  return result;
}
