import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The package name of an npm spec: "ml-matrix@6.15.1" → "ml-matrix", "@scope/pkg@1" → "@scope/pkg". */
export function packageName(spec: string): string {
  const at = spec.indexOf("@", 1);
  return at < 0 ? spec : spec.slice(0, at);
}

/**
 * The installed version of a package as this module resolves it, or "not installed". It walks up from the
 * package's entry file to its own package.json, because many packages do not export `./package.json`.
 */
export function installedVersion(name: string, from: string = import.meta.dir): string {
  let entry: string;
  try {
    entry = Bun.resolveSync(name, from);
  } catch {
    return "not installed";
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
    if (pkg.name === name && pkg.version) return pkg.version;
  }
  return "unknown";
}

/** The installed version of each package in a list of npm specs, keyed by package name. */
export function versionsOf(specs: string[]): Record<string, string> {
  return Object.fromEntries(specs.map((spec) => [packageName(spec), installedVersion(packageName(spec))]));
}
