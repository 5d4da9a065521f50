import { logger } from "../base/log";
/**
 * Idempotent provisioning: one endpoint per resource name, recorded with its config hash in the state file.
 * A second run reuses the endpoint, a changed config updates it in place, and nothing is ever created twice
 * (one in-flight provisioning per name; an endpoint found by name on the account is adopted, not duplicated).
 */
import type { ResourceConfig } from "../remote/config";
import { GraphqlError, type EndpointInfo, type RunpodGraphql } from "./graphql";
import { configHash, isPlaceholderImage, mapConfig, type Mapped } from "./mapping";
import { ResourceState, type ResourceEntry } from "./state";

const plog = logger("runpod");

/** What a call needs to reach its endpoint. */
export interface Provisioned {
  endpointId: string;
  name: string;
  type: "QB" | "LB";
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
}

/** Provisions endpoints for resource configs through GraphQL, once per name and config hash. */
export class Provisioner {
  private readonly state: ResourceState;
  private readonly ready = new Map<string, { hash: string; result: Provisioned }>();
  private readonly inflight = new Map<string, Promise<Provisioned>>();
  private readonly mapped = new WeakMap<ResourceConfig, { mapped: Mapped; hash: string }>();
  private accountEndpoints?: Promise<EndpointInfo[]>;
  private warnedImage = false;
  /** GraphQL mutations sent (tests and the status page use it). */
  readonly counts = { created: 0, updated: 0, reused: 0, deleted: 0 };

  constructor(private readonly opts: ProvisionerOptions) {
    this.state = new ResourceState(opts.statePath);
  }

  /** The endpoint for a config, provisioning it when needed (cheap after the first call: no network). */
  async ensure(config: ResourceConfig): Promise<Provisioned> {
    const { mapped, hash } = this.mapOnce(config);
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

  /** Endpoints this process provisioned or reused, by name. */
  endpoints(): Provisioned[] {
    return [...this.ready.values()].map((v) => v.result);
  }

  /** Delete this session's `live-` endpoints (and their templates) and forget them; never throws. */
  async cleanup(): Promise<CleanupSummary> {
    const summary: CleanupSummary = { removed: 0, failed: 0, errors: [] };
    await Promise.allSettled([...this.inflight.values()]);
    const entries = Object.values(this.state.read()).filter(
      (e) => e.live && e.apiBaseUrl === this.opts.apiBaseUrl && this.ready.has(e.name),
    );
    for (const entry of entries) {
      try {
        await this.opts.graphql.deleteEndpoint(entry.endpointId);
        this.counts.deleted++;
        summary.removed++;
        this.state.delete(entry.name);
        this.ready.delete(entry.name);
        if (entry.templateName) await this.deleteTemplate(entry.templateName);
      } catch (err) {
        summary.failed++;
        summary.errors.push(`${entry.name} (${entry.endpointId}): ${(err as Error).message}`);
      }
    }
    return summary;
  }

  private mapOnce(config: ResourceConfig): { mapped: Mapped; hash: string } {
    let m = this.mapped.get(config);
    if (!m) {
      const mapped = mapConfig(config, this.opts.live);
      m = { mapped, hash: configHash(mapped) };
      this.mapped.set(config, m);
      if (
        !this.warnedImage &&
        isPlaceholderImage(mapped.template.imageName) &&
        !/127\.0\.0\.1|localhost/.test(this.opts.apiBaseUrl)
      ) {
        this.warnedImage = true;
        plog.warn(
          `no worker image set: build and push flash's worker image, then set FLASH_WORKER_IMAGE (see worker/README.md)`,
        );
      }
    }
    return m;
  }

  private async provision(config: ResourceConfig, mapped: Mapped, hash: string): Promise<Provisioned> {
    const gql = this.opts.graphql;
    let entry = this.state.get(mapped.name);
    if (entry && entry.apiBaseUrl !== this.opts.apiBaseUrl) entry = undefined;
    const existing = await this.findOnAccount(entry?.endpointId, mapped.name);
    if (entry && (!existing || existing.id !== entry.endpointId)) {
      plog.info(`endpoint ${mapped.name} (${entry.endpointId}) no longer exists; provisioning it again`);
      entry = undefined;
    }
    const result: Provisioned = { endpointId: "", name: mapped.name, type: mapped.endpoint.type };
    if (entry && existing && entry.configHash === hash) {
      this.counts.reused++;
      plog.debug(`reusing endpoint ${mapped.name} (${entry.endpointId})`);
      result.endpointId = entry.endpointId;
    } else {
      const templateId = entry?.templateId ?? existing?.templateId;
      const template = await this.saveTemplate(mapped, hash, templateId);
      const saved = await gql.saveEndpoint({ ...mapped.endpoint, id: existing?.id, templateId: template.id });
      if (existing) {
        this.counts.updated++;
        plog.info(`updated endpoint ${mapped.name} (${saved.id}): its config changed`);
      } else {
        this.counts.created++;
        plog.info(`created endpoint ${mapped.name} (${saved.id})`);
      }
      result.endpointId = saved.id;
      entry = {
        name: mapped.name,
        kind: config.kind,
        type: mapped.endpoint.type,
        endpointId: saved.id,
        templateId: template.id,
        templateName: template.name,
        configHash: hash,
        live: this.opts.live,
        apiBaseUrl: this.opts.apiBaseUrl,
        updatedAt: new Date().toISOString(),
      };
      this.state.set(entry);
      if (this.accountEndpoints)
        this.accountEndpoints = this.accountEndpoints.then((list) => [...list.filter((e) => e.id !== saved.id), saved]);
    }
    this.ready.set(mapped.name, { hash, result });
    return result;
  }

  private async saveTemplate(
    mapped: Mapped,
    hash: string,
    id: string | undefined,
  ): Promise<{ id: string; name: string }> {
    const base = `${mapped.name}__${hash.slice(0, 8)}`;
    try {
      return await this.opts.graphql.saveTemplate({ ...mapped.template, id, name: base });
    } catch (err) {
      // A template of that name left behind by an earlier session: use a fresh name rather than fail.
      if (!(err instanceof GraphqlError) || !/unique|taken|exists/i.test(err.message)) throw err;
      return this.opts.graphql.saveTemplate({
        ...mapped.template,
        id,
        name: `${base}-${crypto.randomUUID().slice(0, 6)}`,
      });
    }
  }

  private async deleteTemplate(name: string): Promise<void> {
    try {
      await this.opts.graphql.request(
        "mutation deleteTemplate($name: String) { deleteTemplate(templateName: $name) }",
        { name },
      );
    } catch (err) {
      // Runpod can take minutes to release a template after its endpoint is gone; a leftover template is harmless.
      plog.debug(`template ${name} not deleted: ${(err as Error).message}`);
    }
  }

  /** The endpoint on the account with this id (else this name), from one listing per process. */
  private async findOnAccount(id: string | undefined, name: string): Promise<EndpointInfo | undefined> {
    this.accountEndpoints ??= this.opts.graphql.listEndpoints();
    let list: EndpointInfo[];
    try {
      list = await this.accountEndpoints;
    } catch (err) {
      this.accountEndpoints = undefined;
      throw err;
    }
    return (id ? list.find((e) => e.id === id) : undefined) ?? list.find((e) => e.name === name);
  }
}

export type { ResourceEntry };
