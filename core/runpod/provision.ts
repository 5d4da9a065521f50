import { logger } from "../base/log";
/**
 * Idempotent provisioning: one endpoint per resource name, recorded with its config hash in the state file.
 * A second run reuses the endpoint, a changed config updates it in place, and nothing is ever created twice
 * (one in-flight provisioning per name; mutations are never retried blindly). An endpoint found on the account
 * by name is adopted only when its template carries this workspace's marker (FLASH_WORKSPACE): flash never takes
 * over an endpoint it cannot prove it created.
 */
import type { ResourceConfig } from "../remote/config";
import { GraphqlError, type RunpodGraphql } from "./graphql";
import type { EndpointInfo } from "./platform";
import { RunpodApiError } from "./http";
import { configHash, mapConfig, templateHash, type Mapped } from "./mapping";
import { ResourceState, type ResourceEntry } from "./state";
import { bootstrapBase64, type WorkerProgram } from "./worker-program";

const plog = logger("runpod");

/** What a call needs to reach its endpoint. */
export interface Provisioned {
  endpointId: string;
  name: string;
  type: "QB" | "LB";
  /** A default-image endpoint: calls carry the worker program (by hash after the first). */
  bootstrap: boolean;
  /** A live config: calls are flash calls (else the user's own handler gets the raw input). */
  live: boolean;
}

/** Result of removing the session's `live-` endpoints. */
export interface CleanupSummary {
  removed: number;
  failed: number;
  errors: string[];
}

/** Options of a provisioner. */
export interface ProvisionerOptions {
  graphql: RunpodGraphql;
  statePath: string;
  apiBaseUrl: string;
  /** Dev session: `live-` names, removed by `cleanup()`. */
  live: boolean;
  /** This workspace's marker (FLASH_WORKSPACE in every template flash creates). */
  workspace: string;
  /** The worker program default-image templates name by hash (bundled on first need). */
  program: () => Promise<WorkerProgram>;
}

/** Whether a failed request may still have reached Runpod and done its work (a timeout, a 5xx). */
function mayHaveHappened(err: unknown): boolean {
  return err instanceof RunpodApiError && !(err instanceof GraphqlError) && (err.status === 0 || err.status >= 500);
}

/** Provisions endpoints for resource configs through GraphQL, once per name and config hash. */
export class Provisioner {
  private readonly state: ResourceState;
  private readonly ready = new Map<string, { hash: string; result: Provisioned }>();
  private readonly inflight = new Map<string, Promise<Provisioned>>();
  /** Network volume ids by name + data center, looked up (or created) once. */
  private readonly volumes = new Map<string, Promise<string>>();
  /** Each config's mapping and hash: `ensure` runs on every remote call, the mapping needs doing once. */
  private readonly mapped = new WeakMap<ResourceConfig, Promise<{ mapped: Mapped; hash: string }>>();
  private accountEndpoints?: Promise<EndpointInfo[]>;
  private leftoversChecked = false;
  /** GraphQL mutations sent (tests and the status page use it). */
  readonly counts = { created: 0, updated: 0, reused: 0, deleted: 0 };
  /** saveTemplate mutations sent (a config change of endpoint fields alone sends none). */
  templateSaves = 0;

  constructor(private readonly opts: ProvisionerOptions) {
    this.state = new ResourceState(opts.statePath);
  }

  /** The endpoint for a config, provisioning it when needed (cheap after the first call: no network). */
  async ensure(config: ResourceConfig): Promise<Provisioned> {
    const { mapped, hash } = await this.map(config);
    const known = this.ready.get(mapped.name);
    if (known && known.hash === hash) return known.result;
    const key = mapped.name;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.provision(config, mapped, hash).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const result = await pending;
    // Another config with the same name but a different hash may have been in flight: converge on ours.
    const now = this.ready.get(key);
    if (now && now.hash !== hash) return this.ensure(config);
    return result;
  }

  /**
   * The id of a config's volume when the config gives none: the account's volume of that name and data center,
   * created when there is none (once per provisioner). Kept here, not written into the user's NetworkVolume, so
   * another target in the same process (another account, an emulator) looks it up for itself.
   */
  private volumeId(config: ResourceConfig): Promise<string> | undefined {
    const volume = config.networkVolume;
    if (!volume || volume.id) return undefined;
    const key = `${volume.name}\u0000${volume.dataCenterId}`;
    let pending = this.volumes.get(key);
    if (!pending) {
      pending = this.opts.graphql.ensureNetworkVolume(volume);
      pending.catch(() => this.volumes.delete(key));
      this.volumes.set(key, pending);
    }
    return pending;
  }

  /** Endpoints this process provisioned or reused, by name. */
  endpoints(): Provisioned[] {
    return [...this.ready.values()].map((v) => v.result);
  }

  /**
   * Delete the `live-` endpoints of this workspace recorded in the state file (this session's, and any an earlier
   * session left behind) and their templates, and forget them; never throws. Each endpoint is scaled to zero,
   * deleted and verified gone (RunpodGraphql.deleteEndpoint). Templates Runpod does not release yet (it can take
   * 2 minutes after their last use: docs sdks/graphql/manage-pod-templates) are kept in the state file and
   * deleted by a later session.
   */
  async cleanup(): Promise<CleanupSummary> {
    const summary: CleanupSummary = { removed: 0, failed: 0, errors: [] };
    await Promise.allSettled([...this.inflight.values()]);
    const entries = Object.values(this.state.read()).filter((e) => e.live && e.apiBaseUrl === this.opts.apiBaseUrl);
    for (const entry of entries) {
      try {
        await this.opts.graphql.deleteEndpoint(entry.endpointId);
        this.counts.deleted++;
        summary.removed++;
        this.state.delete(entry.name);
        this.ready.delete(entry.name);
        if (entry.templateName && !entry.userTemplate) this.state.addPendingTemplate(entry.templateName);
      } catch (err) {
        summary.failed++;
        summary.errors.push(`${entry.name} (${entry.endpointId}): ${(err as Error).message}`);
      }
    }
    await this.sweepMarked(summary);
    await this.deletePendingTemplates();
    return summary;
  }

  /**
   * `live-` endpoints on the account that the state file does not name (it was lost or damaged after a crash) but
   * whose template carries this workspace's marker are this workspace's too: removed as well.
   */
  private async sweepMarked(summary: CleanupSummary): Promise<void> {
    if (!this.opts.live) return;
    const inUse = new Set([...this.ready.values()].map((r) => r.result.endpointId));
    let list: EndpointInfo[];
    try {
      list = await this.opts.graphql.listEndpoints();
    } catch (err) {
      summary.errors.push(`listing endpoints: ${(err as Error).message}`);
      return;
    }
    const templates = new Map<string, { name: string; ours: boolean }>();
    for (const e of list.filter((x) => x.name.startsWith("live-") && !inUse.has(x.id))) {
      if (!templates.has(e.templateId)) {
        const t = await this.opts.graphql.getTemplate(e.templateId).catch(() => undefined);
        const ours = !!t?.env.some((v) => v.key === "FLASH_WORKSPACE" && v.value === this.opts.workspace);
        templates.set(e.templateId, { name: t?.name ?? "", ours });
      }
      const t = templates.get(e.templateId)!;
      if (!t.ours) continue;
      try {
        await this.opts.graphql.deleteEndpoint(e.id);
        plog.info(`removed ${e.name} (${e.id}): an earlier session of this workspace left it, unrecorded`);
        this.counts.deleted++;
        summary.removed++;
        if (t.name) this.state.addPendingTemplate(t.name);
      } catch (err) {
        summary.failed++;
        summary.errors.push(`${e.name} (${e.id}): ${(err as Error).message}`);
      }
    }
  }

  /** Templates of deleted endpoints that Runpod had not released yet: try again (failures stay pending). */
  async deletePendingTemplates(): Promise<number> {
    let deleted = 0;
    for (const name of this.state.pendingTemplates()) {
      try {
        await this.opts.graphql.deleteTemplate(name);
        this.state.removePendingTemplate(name);
        deleted++;
      } catch (err) {
        plog.debug(`template ${name} not deleted yet: ${(err as Error).message}`);
      }
    }
    return deleted;
  }

  /** Map a config (with the worker program's hash for default-image templates), once per config object. */
  private map(config: ResourceConfig): Promise<{ mapped: Mapped; hash: string }> {
    let known = this.mapped.get(config);
    if (!known) {
      known = this.mapFresh(config);
      this.mapped.set(config, known);
      known.catch(() => this.mapped.delete(config)); // a failed lookup (the volume) is tried again next call
    }
    return known;
  }

  private async mapFresh(config: ResourceConfig): Promise<{ mapped: Mapped; hash: string }> {
    const base = { live: this.opts.live, workspace: this.opts.workspace, volumeId: await this.volumeId(config) };
    let mapped = mapConfig(config, { ...base, programHash: "0", bootstrap: "0" });
    if (mapped.bootstrap) {
      const program = await this.opts.program();
      mapped = mapConfig(config, { ...base, programHash: program.hash, bootstrap: bootstrapBase64() });
    }
    return { mapped, hash: configHash(mapped) };
  }

  /** Once per process: say what an earlier session left behind (removed at the end of this one, if unused). */
  private reportLeftovers(): void {
    if (this.leftoversChecked || !this.opts.live) return;
    this.leftoversChecked = true;
    const left = Object.values(this.state.read()).filter((e) => e.live && e.apiBaseUrl === this.opts.apiBaseUrl);
    if (left.length) {
      plog.warn(
        `an earlier session left ${left.length} live endpoint${left.length === 1 ? "" : "s"} (${left.map((e) => e.name).join(", ")}): ` +
          "reused when their config is still in use, removed with this session's endpoints when it ends",
      );
    }
    void this.deletePendingTemplates().catch(() => undefined);
  }

  private async provision(config: ResourceConfig, mapped: Mapped, hash: string): Promise<Provisioned> {
    this.reportLeftovers();
    let entry = this.state.get(mapped.name);
    if (entry && entry.apiBaseUrl !== this.opts.apiBaseUrl) entry = undefined;
    const existing = await this.findOwned(entry?.endpointId, mapped.name);
    if (entry && (!existing || existing.id !== entry.endpointId)) {
      plog.info(`endpoint ${mapped.name} (${entry.endpointId}) no longer exists; provisioning it again`);
      entry = undefined;
    }
    const result: Provisioned = {
      endpointId: "",
      name: mapped.name,
      type: mapped.endpoint.type,
      bootstrap: mapped.bootstrap,
      live: config.isLive,
    };
    if (entry && existing && entry.configHash === hash) {
      this.counts.reused++;
      plog.debug(`reusing endpoint ${mapped.name} (${entry.endpointId})`);
      result.endpointId = entry.endpointId;
      this.ready.set(mapped.name, { hash, result });
      return result;
    }
    const tHash = templateHash(mapped);
    let template: { id: string; name?: string };
    if (!mapped.template) {
      template = { id: mapped.endpoint.templateId! };
    } else if (existing && entry?.templateHash === tHash && entry.templateId) {
      // Only endpoint fields changed: keep the template, so workers do not roll (runpod/flash serverless.py
      // `update()` skips saveTemplate when the env is unchanged).
      template = { id: entry.templateId, name: entry.templateName };
    } else {
      template = await this.saveTemplate(mapped, tHash, entry?.templateId ?? existing?.templateId);
    }
    const saved = await this.saveEndpoint(mapped, existing?.id, template.id);
    if (existing) {
      this.counts.updated++;
      plog.info(`updated endpoint ${mapped.name} (${saved.id}): its config changed`);
    } else {
      this.counts.created++;
      plog.info(`created endpoint ${mapped.name} (${saved.id})`);
    }
    result.endpointId = saved.id;
    const next: ResourceEntry = {
      name: mapped.name,
      kind: config.kind,
      type: mapped.endpoint.type,
      endpointId: saved.id,
      templateId: template.id,
      templateName: template.name,
      userTemplate: !mapped.template || undefined,
      configHash: hash,
      templateHash: tHash,
      live: this.opts.live,
      apiBaseUrl: this.opts.apiBaseUrl,
      updatedAt: new Date().toISOString(),
    };
    this.state.set(next);
    if (this.accountEndpoints) {
      this.accountEndpoints = this.accountEndpoints.then((list) => [...list.filter((e) => e.id !== saved.id), saved]);
    }
    this.ready.set(mapped.name, { hash, result });
    return result;
  }

  /**
   * saveEndpoint, sent once. When a create fails in a way that may still have created the endpoint (timeout, 5xx),
   * the account is listed again and an endpoint of that name with our marker is taken as the one we created.
   */
  private async saveEndpoint(mapped: Mapped, id: string | undefined, templateId: string): Promise<EndpointInfo> {
    try {
      return await this.opts.graphql.saveEndpoint({ ...mapped.endpoint, id, templateId });
    } catch (err) {
      if (id || !mayHaveHappened(err)) throw err;
      this.accountEndpoints = undefined;
      const created = await this.findOwned(undefined, mapped.name).catch(() => undefined);
      if (!created) throw err;
      plog.info(`creating ${mapped.name} failed (${(err as Error).message}) but it exists: using it`);
      return created;
    }
  }

  /** Create (RunpodGraphql.createTemplate: a name clash with our own lingering template reuses it) or update a template. */
  private async saveTemplate(
    mapped: Mapped,
    tHash: string,
    id: string | undefined,
  ): Promise<{ id: string; name: string }> {
    const gql = this.opts.graphql;
    const input = { ...mapped.template!, name: `${mapped.name}__${tHash.slice(0, 8)}` };
    this.templateSaves++;
    if (id) return gql.saveTemplate({ ...input, id });
    // A clash with a template of this workspace (a lingering one of a deleted endpoint) reuses it.
    const ours = (t: { env: { key: string; value: string }[] }) =>
      t.env.some((v) => v.key === "FLASH_WORKSPACE" && v.value === this.opts.workspace);
    const made = await gql.createTemplate(input, ours);
    this.state.removePendingTemplate(made.name);
    return made;
  }

  /** Whether a template carries this workspace's marker. */
  private async markedOurs(templateId: string | undefined): Promise<boolean> {
    if (!templateId) return false;
    const t = await this.opts.graphql.getTemplate(templateId).catch(() => undefined);
    return !!t?.env.some((v) => v.key === "FLASH_WORKSPACE" && v.value === this.opts.workspace);
  }

  /**
   * The endpoint on the account with this id (recorded in our state file), else one with this name whose template
   * carries our marker. An endpoint of that name that is not ours is an error: flash does not take it over.
   */
  private async findOwned(id: string | undefined, name: string): Promise<EndpointInfo | undefined> {
    this.accountEndpoints ??= this.opts.graphql.listEndpoints();
    let list: EndpointInfo[];
    try {
      list = await this.accountEndpoints;
    } catch (err) {
      this.accountEndpoints = undefined;
      throw err;
    }
    const byId = id ? list.find((e) => e.id === id) : undefined;
    if (byId) return byId;
    const byName = list.find((e) => e.name === name);
    if (!byName) return undefined;
    if (await this.markedOurs(byName.templateId)) {
      plog.info(`adopting endpoint ${name} (${byName.id}): this workspace created it`);
      return byName;
    }
    throw new Error(
      `an endpoint named ${name} (${byName.id}) already exists on this Runpod account, and this workspace did not ` +
        "create it (its template has no matching FLASH_WORKSPACE): flash will not take it over. Rename the resource " +
        "config, or delete that endpoint in the Runpod console if it is a leftover.",
    );
  }
}
