/** The provisioning state file (`.flash/resources.json`): which endpoint each resource name has, and its config hash. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../base/fs";
import { log } from "../base/log";

/** What is known about one provisioned resource. Holds ids and hashes only: never env values or keys. */
export interface ResourceEntry {
  /** Deployed endpoint name (`live-…-fb`). */
  name: string;
  kind: string;
  type: "QB" | "LB";
  endpointId: string;
  templateId?: string;
  templateName?: string;
  configHash: string;
  /** Hash of the template fields alone (the template is saved again only when it changes). */
  templateHash?: string;
  /** The config named an existing template (`templateId`): never deleted by flash. */
  userTemplate?: boolean;
  live: boolean;
  /** The control plane it lives on (an emulator's entries never match production). */
  apiBaseUrl: string;
  updatedAt: string;
}

interface StateFile {
  version: 1;
  resources: Record<string, ResourceEntry>;
  /** Names of templates whose endpoint is deleted but which Runpod had not released yet. */
  pendingTemplates?: string[];
}

/** Read/write access to a state file; every write is atomic (temp file + rename) so a crash never leaves half a file. */
export class ResourceState {
  constructor(readonly path: string) {}

  /** Every entry (an unreadable file is reported and treated as empty, never thrown). */
  read(): Record<string, ResourceEntry> {
    return this.file().resources;
  }

  private file(): StateFile {
    if (!existsSync(this.path)) return { version: 1, resources: {} };
    try {
      const data = JSON.parse(readFileSync(this.path, "utf8")) as Partial<StateFile>;
      const resources = data && typeof data.resources === "object" && data.resources ? data.resources : {};
      const pending = Array.isArray(data?.pendingTemplates)
        ? data.pendingTemplates.filter((n) => typeof n === "string")
        : [];
      return { version: 1, resources, pendingTemplates: pending };
    } catch (err) {
      log.warn(`ignoring unreadable ${this.path}: ${(err as Error).message}`);
      return { version: 1, resources: {} };
    }
  }

  /** Templates still to delete. */
  pendingTemplates(): string[] {
    return this.file().pendingTemplates ?? [];
  }

  /** Remember a template to delete later. */
  addPendingTemplate(name: string): void {
    const f = this.file();
    f.pendingTemplates = [...new Set([...(f.pendingTemplates ?? []), name])];
    this.write(f.resources, f.pendingTemplates);
  }

  /** Forget a deleted template. */
  removePendingTemplate(name: string): void {
    const f = this.file();
    this.write(
      f.resources,
      (f.pendingTemplates ?? []).filter((n) => n !== name),
    );
  }

  /** The entry of a resource name. */
  get(name: string): ResourceEntry | undefined {
    return this.read()[name];
  }

  /** Record (or replace) the entry of a resource name. */
  set(entry: ResourceEntry): void {
    const f = this.file();
    f.resources[entry.name] = entry;
    this.write(f.resources, f.pendingTemplates);
  }

  /** Forget a resource name. */
  delete(name: string): void {
    const f = this.file();
    if (!(name in f.resources)) return;
    delete f.resources[name];
    this.write(f.resources, f.pendingTemplates);
  }

  private write(resources: Record<string, ResourceEntry>, pendingTemplates: string[] = []): void {
    const body: StateFile = { version: 1, resources };
    if (pendingTemplates.length) body.pendingTemplates = pendingTemplates;
    writeFileAtomic(this.path, `${JSON.stringify(body, null, 2)}\n`);
  }
}

/**
 * This workspace's marker (FLASH_WORKSPACE in every template flash creates): random, kept in `.flash/workspace-id`
 * next to the state file, so that two workspaces (or two users) on one account never adopt each other's endpoints.
 */
export function workspaceId(stateDir: string): string {
  const file = join(stateDir, "workspace-id");
  try {
    const id = readFileSync(file, "utf8").trim();
    if (/^[a-f0-9]{16}$/.test(id)) return id;
  } catch {
    // first use
  }
  const id = Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
  writeFileAtomic(file, `${id}\n`);
  return id;
}
