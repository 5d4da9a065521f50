/** The provisioning state file (`.flash/resources.json`): which endpoint each resource name has, and its config hash. */
import { existsSync, readFileSync } from "node:fs";
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
  live: boolean;
  /** The control plane it lives on (an emulator's entries never match production). */
  apiBaseUrl: string;
  updatedAt: string;
}

interface StateFile {
  version: 1;
  resources: Record<string, ResourceEntry>;
}

/** Read/write access to a state file; every write is atomic (temp file + rename) so a crash never leaves half a file. */
export class ResourceState {
  constructor(readonly path: string) {}

  /** Every entry (an unreadable file is reported and treated as empty, never thrown). */
  read(): Record<string, ResourceEntry> {
    if (!existsSync(this.path)) return {};
    try {
      const data = JSON.parse(readFileSync(this.path, "utf8")) as Partial<StateFile>;
      return data && typeof data.resources === "object" && data.resources ? data.resources : {};
    } catch (err) {
      log.warn(`ignoring unreadable ${this.path}: ${(err as Error).message}`);
      return {};
    }
  }

  /** The entry of a resource name. */
  get(name: string): ResourceEntry | undefined {
    return this.read()[name];
  }

  /** Record (or replace) the entry of a resource name. */
  set(entry: ResourceEntry): void {
    const all = this.read();
    all[entry.name] = entry;
    this.write(all);
  }

  /** Forget a resource name. */
  delete(name: string): void {
    const all = this.read();
    if (!(name in all)) return;
    delete all[name];
    this.write(all);
  }

  private write(resources: Record<string, ResourceEntry>): void {
    const body: StateFile = { version: 1, resources };
    writeFileAtomic(this.path, `${JSON.stringify(body, null, 2)}\n`);
  }
}
