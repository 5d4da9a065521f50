/**
 * What flash deployed to an environment, kept so that an interrupted deploy loses nothing: the record lives in the
 * manifest of the environment's active build (`deployed`, `pending_templates`), is written after every endpoint
 * created, updated or deleted, and endpoints attached to the environment that the record misses (a deploy killed
 * between `saveEndpoint` and the write, or two deploys at once) are adopted when their template carries this
 * environment's marker (`FLASH_APP` and `FLASH_ENVIRONMENT_ID`, which every template a deploy creates has) and is
 * named after the endpoint. An
 * adopted endpoint whose resource is already recorded is a duplicate, planned for deletion.
 */
import { logger } from "../base/log";
import type { RunpodGraphql } from "../runpod/graphql";
import { endpointInputOf, type EnvVarInput } from "../runpod/platform";
import type { FlashAppClient, FlashEnvironment } from "./flash-app-client";
import { type DeployedResource, digestEnv, type Manifest, storedRecord } from "./manifest";

const rlog = logger("deploy");

/** `desired_hash` of an adopted endpoint: never equal to a desired config, so the next plan updates it. */
export const ADOPTED = "adopted";

/** Whether a template's env carries this environment's marker (it was created by a deploy of this app to it). */
export function markedFor(env: EnvVarInput[], appName: string, environmentId: string): string | undefined {
  const get = (k: string) => env.find((v) => v.key === k)?.value;
  if (get("FLASH_APP") !== appName || get("FLASH_ENVIRONMENT_ID") !== environmentId) return undefined;
  return get("FLASH_RESOURCE_NAME");
}

/**
 * The record with the environment's unrecorded endpoints of this app adopted (see the module comment). Duplicates
 * get a key of their own (`resource#endpoint id`), which no manifest resource has: a plan deletes them.
 */
async function adoptOrphans(
  gql: RunpodGraphql,
  env: FlashEnvironment,
  appName: string,
  recorded: Record<string, DeployedResource>,
): Promise<Record<string, DeployedResource>> {
  const attached = env.endpoints ?? [];
  const known = new Set(Object.values(recorded).map((d) => d.endpoint_id));
  const orphans = attached.filter((e) => !known.has(e.id));
  if (!orphans.length) return recorded;
  const out = { ...recorded };
  const live = new Set(attached.map((e) => e.id));
  const listed = new Map((await gql.listEndpoints()).map((e) => [e.id, e]));
  for (const orphan of orphans.sort((a, b) => a.id.localeCompare(b.id))) {
    const e = listed.get(orphan.id);
    if (!e) continue;
    const template = await gql.getTemplate(e.templateId).catch(() => undefined);
    const resource = template && markedFor(template.env, appName, env.id);
    // A deploy names each template after its endpoint (`<endpoint>__<hash>`): an endpoint someone else made on one
    // of our templates is not ours.
    if (!template || !resource || !template.name.startsWith(`${e.name}__`)) continue;
    const { id: _id, templateId: _t, ...endpoint } = endpointInputOf(e);
    const record: DeployedResource = {
      endpoint_id: e.id,
      endpoint_name: e.name,
      template_id: template.id,
      template_name: template.name,
      desired_hash: ADOPTED,
      endpoint,
      template: {
        imageName: "",
        containerDiskInGb: 0,
        volumeInGb: 0,
        dockerArgs: "",
        env: digestEnv(template.env),
        isServerless: true,
      },
    };
    const holder = out[resource];
    const key = holder && live.has(holder.endpoint_id) ? `${resource}#${e.id}` : resource;
    rlog.info(
      key === resource
        ? `adopting endpoint ${e.name} (${e.id}): an earlier deploy of this environment created it`
        : `endpoint ${e.name} (${e.id}) duplicates ${holder!.endpoint_id}: it will be deleted`,
    );
    out[key] = record;
  }
  return out;
}

/** The record of the environment: its active build's manifest, with orphans of this app adopted. */
export async function readRecord(
  apps: FlashAppClient,
  env: FlashEnvironment,
  appName: string,
): Promise<{ manifest?: Manifest; deployed: Record<string, DeployedResource>; pending: string[] }> {
  let manifest: Manifest | undefined;
  if (env.activeBuildId) {
    const m = (await apps.build(env.activeBuildId))?.manifest;
    if (m && typeof m === "object") manifest = m as Manifest;
    else if (typeof m === "string") manifest = JSON.parse(m) as Manifest;
  }
  const deployed = await adoptOrphans(apps.gql, env, appName, manifest?.deployed ?? {});
  return { manifest, deployed, pending: manifest?.pending_templates ?? [] };
}

/**
 * The record being written during a deploy or undeploy: every change is stored on the build at once, one write at
 * a time (the last write carries every change before it).
 */
export class RecordWriter {
  private chain: Promise<void> = Promise.resolve();
  private readonly deployed: Record<string, DeployedResource>;
  private readonly pending: Set<string>;

  constructor(
    private readonly apps: FlashAppClient,
    private readonly buildId: string,
    private base: Manifest,
    deployed: Record<string, DeployedResource>,
    pending: string[],
  ) {
    this.deployed = Object.fromEntries(Object.entries(deployed).map(([n, d]) => [n, storedRecord(d)]));
    this.pending = new Set(pending);
  }

  /** A resource's endpoint exists now (created, updated or adopted). */
  set(resource: string, d: DeployedResource): Promise<void> {
    this.deployed[resource] = storedRecord(d);
    this.pending.delete(d.template_name);
    return this.save();
  }

  /** A resource's endpoint is gone; its template is still to delete unless `templateDeleted`. */
  remove(resource: string, templateName: string | undefined, templateDeleted: boolean): Promise<void> {
    delete this.deployed[resource];
    if (templateName && !templateDeleted) this.pending.add(templateName);
    if (templateName && templateDeleted) this.pending.delete(templateName);
    return this.save();
  }

  /** A template still to delete is gone. */
  templateDeleted(name: string): void {
    this.pending.delete(name);
  }

  /** Forget records that `keep` rejects (endpoints that no longer exist and were not just made); not written yet. */
  retain(keep: (resource: string) => boolean): void {
    for (const name of Object.keys(this.deployed)) if (!keep(name)) delete this.deployed[name];
  }

  /** Replace the manifest the record is stored in (the deploy's final one, with URLs). */
  rebase(base: Manifest): Promise<void> {
    this.base = base;
    return this.save();
  }

  /** The record as it stands. */
  snapshot(): { deployed: Record<string, DeployedResource>; pending: string[] } {
    return { deployed: { ...this.deployed }, pending: [...this.pending].sort() };
  }

  /** The manifest to store: the base with the record. */
  manifest(): Manifest {
    const { deployed, pending } = this.snapshot();
    const m: Manifest = { ...this.base, deployed };
    if (pending.length) m.pending_templates = pending;
    else delete m.pending_templates;
    return m;
  }

  /** Write the record (after the writes before it). */
  save(): Promise<void> {
    const next = this.chain.then(() => this.apps.updateBuildManifest(this.buildId, this.manifest()));
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** Delete templates still to delete; returns the names Runpod refused again (it can take 2 minutes). */
export async function deletePendingTemplates(gql: RunpodGraphql, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const inUse = new Set((await gql.listEndpoints()).map((e) => e.templateId));
  const byName = new Map((await gql.listTemplates()).map((t) => [t.name, t.id]));
  const left: string[] = [];
  for (const name of names) {
    const id = byName.get(name);
    if (!id) continue; // gone already
    if (inUse.has(id)) continue; // an endpoint uses it again (a later deploy reused it): not ours to delete
    try {
      await gql.deleteTemplate(name);
    } catch (err) {
      rlog.debug(`template ${name} not deleted yet: ${(err as Error).message}`);
      left.push(name);
    }
  }
  return left;
}
