import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The package name of an npm spec: "ml-matrix@6.15.1" → "ml-matrix", "@scope/pkg@1" → "@scope/pkg". */
export function packageName(spec: string): string {
  const at = spec.indexOf("@", 1);
  return at < 0 ? spec : spec.slice(0, at);
}

/** Versions already read, by package name and the directory it was resolved from. */
const found = new Map<string, string>();

/**
 * The installed version of a package as this module resolves it, or "not installed". It walks up from the
 * package's entry file to its own package.json, because many packages do not export `./package.json`.
 * A package that resolves is read once per (name, from); one that does not is looked up again on the next call.
 */
export function installedVersion(name: string, from: string = import.meta.dir): string {
  const key = `${name}\0${from}`;
  const known = found.get(key);
  if (known !== undefined) return known;
  let entry: string;
  try {
    entry = Bun.resolveSync(name, from);
  } catch {
    return "not installed";
  }
  let version = "unknown";
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
    if (pkg.name === name && pkg.version) {
      version = pkg.version;
      break;
    }
  }
  found.set(key, version);
  return version;
}

/** The installed version of each package in a list of npm specs, keyed by package name. */
export function versionsOf(specs: string[]): Record<string, string> {
  return Object.fromEntries(specs.map((spec) => [packageName(spec), installedVersion(packageName(spec))]));
}
