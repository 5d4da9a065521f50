import { logger } from "../base/log";
/**
 * Idempotent provisioning through Runpod's REST API v2 (`/v2/serverless`; rest-v2.ts): one endpoint per resource
 * name, recorded with its config hash in the state file. A second run reuses the endpoint, a changed config updates
 * it in place (a PATCH), and nothing is ever created twice (one in-flight provisioning per name; a create is never
 * retried blindly). A v2 endpoint carries its container settings itself, so there is no template to save first, no
 * template name to clash, and a delete takes its bound template along. An endpoint found on the account by name is
 * adopted only when its env carries this workspace's marker (FLASH_WORKSPACE): flash never takes over an endpoint it
 * cannot prove it created.
 */
import type { ResourceConfig } from "../remote/config";
import { RunpodApiError } from "./http";
import { configHash, mapConfig, templateHash, type Mapped } from "./mapping";
import { createBody, updateBody } from "./mapping-v2";
import { RestV2Error, type RunpodRestV2, type V2Endpoint } from "./rest-v2";
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
  /** The GPU pools its workers may run on (none for CPU): a queue wait's explanation asks the catalog about them. */
  pools: string[];
}

/** Result of removing the session's `live-` endpoints. */
export interface CleanupSummary {
  removed: number;
  failed: number;
  errors: string[];
}

/** Options of a provisioner. */
export interface ProvisionerOptions {
  rest: RunpodRestV2;
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
  return err instanceof RunpodApiError && !(err instanceof RestV2Error) && (err.status === 0 || err.status >= 500);
}

/** The endpoint's type in GraphQL's words (the state file and the call path use them). */
const typeOf = (e: V2Endpoint): "QB" | "LB" => (e.type === "LOAD_BALANCER" ? "LB" : "QB");

/** Provisions endpoints for resource configs through REST v2, once per name and config hash. */
export class Provisioner {
  private readonly state: ResourceState;
  private readonly ready = new Map<string, { hash: string; result: Provisioned }>();
  private readonly inflight = new Map<string, Promise<Provisioned>>();
  /** Network volume ids by name + data center, looked up (or created) once. */
  private readonly volumes = new Map<string, Promise<string>>();
  /** Each config's mapping and hash: `ensure` runs on every remote call, the mapping needs doing once. */
  private readonly mapped = new WeakMap<ResourceConfig, Promise<{ mapped: Mapped; hash: string }>>();
  private accountEndpoints?: Promise<V2Endpoint[]>;
  private leftoversChecked = false;
  /** Endpoints created, updated, reused and deleted (tests and the status page use it). */
  readonly counts = { created: 0, updated: 0, reused: 0, deleted: 0 };
  /** Updates that changed container settings, a new release (a config change of endpoint fields alone sends none). */
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
      pending = this.opts.rest.ensureNetworkVolume(volume);
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
   * session left behind), and forget them; never throws. v2 deletes an endpoint with its bound template and needs no
   * scale to zero first ("all workers are terminated": DELETE /v2/serverless/{id}). Templates an earlier, GraphQL-era
   * session left pending are deleted by name.
   */
  async cleanup(): Promise<CleanupSummary> {
    const summary: CleanupSummary = { removed: 0, failed: 0, errors: [] };
    await Promise.allSettled([...this.inflight.values()]);
    const entries = Object.values(this.state.read()).filter((e) => e.live && e.apiBaseUrl === this.opts.apiBaseUrl);
    for (const entry of entries) {
      try {
        await this.opts.rest.deleteEndpoint(entry.endpointId);
        this.counts.deleted++;
        summary.removed++;
        this.state.delete(entry.name);
        this.ready.delete(entry.name);
        // An endpoint a GraphQL-era session made has a named template of its own, which v2 may not count as bound.
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
   * that carry this workspace's marker are this workspace's too: removed as well.
   */
  private async sweepMarked(summary: CleanupSummary): Promise<void> {
    if (!this.opts.live) return;
    const inUse = new Set([...this.ready.values()].map((r) => r.result.endpointId));
    let list: V2Endpoint[];
    try {
      list = await this.opts.rest.listEndpoints();
    } catch (err) {
      summary.errors.push(`listing endpoints: ${(err as Error).message}`);
      return;
    }
    for (const e of list.filter((x) => x.name.startsWith("live-") && !inUse.has(x.id) && this.markedOurs(x))) {
      try {
        await this.opts.rest.deleteEndpoint(e.id);
        plog.info(`removed ${e.name} (${e.id}): an earlier session of this workspace left it, unrecorded`);
        this.counts.deleted++;
        summary.removed++;
      } catch (err) {
        summary.failed++;
        summary.errors.push(`${e.name} (${e.id}): ${(err as Error).message}`);
      }
    }
  }

  /** Templates of endpoints deleted through GraphQL that Runpod had not released yet: try again (failures stay pending). */
  async deletePendingTemplates(): Promise<number> {
    let deleted = 0;
    const pending = this.state.pendingTemplates();
    if (!pending.length) return 0;
    const templates = await this.opts.rest.listTemplates().catch(() => undefined);
    if (!templates) return 0;
    for (const name of pending) {
      try {
        const found = templates.find((t) => t.name === name);
        if (found) await this.opts.rest.deleteTemplate(found.id);
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
    let existing = await this.findOwned(entry?.endpointId, mapped.name);
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
      pools: (mapped.endpoint.gpuIds ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p && !p.startsWith("-")),
    };
    if (entry && existing && entry.configHash === hash) {
      this.counts.reused++;
      plog.debug(`reusing endpoint ${mapped.name} (${entry.endpointId})`);
      result.endpointId = entry.endpointId;
      this.ready.set(mapped.name, { hash, result });
      return result;
    }
    if (existing && typeOf(existing) !== mapped.endpoint.type) {
      // v2 cannot change an endpoint's routing type (UpdateEndpointRequest has no `type`): replace it.
      plog.info(`endpoint ${mapped.name} (${existing.id}) changes type: replacing it`);
      await this.opts.rest.deleteEndpoint(existing.id);
      this.forget(existing.id);
      existing = undefined;
    }
    const tHash = templateHash(mapped);
    let saved: V2Endpoint;
    if (existing) {
      // Container settings are sent only when they changed, so that workers do not roll for a scaling change
      // (runpod/flash serverless.py `update()` skips saveTemplate when the env is unchanged; v2: "container-affecting
      // changes … create a new endpoint release").
      const containerChanged = entry?.templateHash !== tHash;
      if (containerChanged && mapped.template) this.templateSaves++;
      saved = await this.opts.rest.updateEndpoint(existing.id, updateBody(mapped, containerChanged));
      this.counts.updated++;
      plog.info(`updated endpoint ${mapped.name} (${saved.id}): its config changed`);
    } else {
      saved = await this.createEndpoint(mapped);
      this.counts.created++;
      plog.info(`created endpoint ${mapped.name} (${saved.id})`);
    }
    result.endpointId = saved.id;
    const next: ResourceEntry = {
      name: mapped.name,
      kind: config.kind,
      type: mapped.endpoint.type,
      endpointId: saved.id,
      templateId: mapped.endpoint.templateId,
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

  /** Drop a deleted endpoint from the cached account listing. */
  private forget(id: string): void {
    if (this.accountEndpoints) this.accountEndpoints = this.accountEndpoints.then((l) => l.filter((e) => e.id !== id));
  }

  /**
   * POST /v2/serverless, sent once. When a create fails in a way that may still have created the endpoint (timeout,
   * 5xx), the account is listed again and an endpoint of that name with our marker is taken as the one we created.
   */
  private async createEndpoint(mapped: Mapped): Promise<V2Endpoint> {
    try {
      return await this.opts.rest.createEndpoint(createBody(mapped));
    } catch (err) {
      if (!mayHaveHappened(err)) throw err;
      this.accountEndpoints = undefined;
      const created = await this.findOwned(undefined, mapped.name).catch(() => undefined);
      if (!created) throw err;
      plog.info(`creating ${mapped.name} failed (${(err as Error).message}) but it exists: using it`);
      return created;
    }
  }

  /** Whether an endpoint's env carries this workspace's marker. */
  private markedOurs(endpoint: V2Endpoint): boolean {
    return endpoint.env?.FLASH_WORKSPACE === this.opts.workspace;
  }

  /**
   * The endpoint on the account with this id (recorded in our state file), else one with this name whose env
   * carries our marker. An endpoint of that name that is not ours is an error: flash does not take it over.
   */
  private async findOwned(id: string | undefined, name: string): Promise<V2Endpoint | undefined> {
    this.accountEndpoints ??= this.opts.rest.listEndpoints();
    let list: V2Endpoint[];
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
    if (this.markedOurs(byName)) {
      plog.info(`adopting endpoint ${name} (${byName.id}): this workspace created it`);
      return byName;
    }
    throw new Error(
      `an endpoint named ${name} (${byName.id}) already exists on this Runpod account, and this workspace did not ` +
        "create it (its env has no matching FLASH_WORKSPACE): flash will not take it over. Rename the resource " +
        "config, or delete that endpoint in the Runpod console if it is a leftover.",
    );
  }
}
