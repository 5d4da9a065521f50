/**
 * The platforms flash is released for, and every name derived from one: the Bun compile target, the npm package
 * that carries Bun's runtime for it, the release asset's file name and the per-platform npm package of flash.
 *
 * This module is pure data and pure functions (no Bun APIs, no I/O): the npm launcher is bundled from it for Node.
 */

/** An operating system as Node and npm's `os` field name it. */
export type NodeOs = "linux" | "darwin" | "win32";
/** A CPU as Node and npm's `cpu` field name it. */
export type NodeCpu = "x64" | "arm64";

/** One platform flash ships a binary for. */
export interface ReleaseTarget {
  /** The release name: `linux-x64`, `darwin-arm64`, `windows-x64-baseline`, … */
  id: string;
  os: NodeOs;
  cpu: NodeCpu;
  /** Built for x64 CPUs without AVX2 (Bun's "baseline" runtime, Nehalem and later). */
  baseline: boolean;
}

/** The npm scope and name of the main package; each platform's package is `<name>-<platform>`. */
export const NPM_PACKAGE = "@flash-sh/cli";

/** Where the release assets are published (a GitHub release of the repository). */
export const RELEASE_URL = "https://github.com/flash-sh/flash/releases/latest/download";

const OS_NAMES: Record<NodeOs, string> = { linux: "linux", darwin: "darwin", win32: "windows" };

function target(os: NodeOs, cpu: NodeCpu, baseline = false): ReleaseTarget {
  return { id: `${OS_NAMES[os]}-${cpu}${baseline ? "-baseline" : ""}`, os, cpu, baseline };
}

/** Every release target, in the order they are built and listed. */
export const TARGETS: readonly ReleaseTarget[] = [
  target("linux", "x64"),
  target("linux", "x64", true),
  target("linux", "arm64"),
  target("darwin", "x64"),
  target("darwin", "x64", true),
  target("darwin", "arm64"),
  target("win32", "x64"),
  target("win32", "x64", true),
];

/** The target with this id, or an error naming the ones that exist. */
export function targetById(id: string): ReleaseTarget {
  const found = TARGETS.find((t) => t.id === id);
  if (!found) throw new Error(`unknown release target "${id}" (known: ${TARGETS.map((t) => t.id).join(", ")})`);
  return found;
}

/** The non-baseline target for a Node platform and arch, or undefined where flash has no binary. */
export function targetFor(os: string, cpu: string): ReleaseTarget | undefined {
  return TARGETS.find((t) => t.os === os && t.cpu === cpu && !t.baseline);
}

/** `bun build --target` for this platform: `bun-linux-x64`, `bun-darwin-arm64`, `bun-windows-x64-baseline`. */
export function bunTarget(t: ReleaseTarget): string {
  return `bun-${t.id}`;
}

/**
 * The npm package that holds Bun's runtime for this platform (`@oven/bun-linux-aarch64`, `@oven/bun-windows-x64`):
 * the packages the `bun` npm package itself installs from, naming arm64 `aarch64`.
 * See https://www.npmjs.com/package/bun (optionalDependencies) and oven-sh/bun packages/bun-release.
 */
export function runtimePackage(t: ReleaseTarget): string {
  const cpu = t.cpu === "arm64" ? "aarch64" : "x64";
  return `@oven/bun-${OS_NAMES[t.os]}-${cpu}${t.baseline ? "-baseline" : ""}`;
}

/** The executable's file extension on this platform. */
export function exeSuffix(os: string): string {
  return os === "win32" ? ".exe" : "";
}

/** The runtime binary's path inside its npm package. */
export function runtimeBinPath(t: ReleaseTarget): string {
  return `bin/bun${exeSuffix(t.os)}`;
}

/** The release asset's file name: `flash-linux-x64`, `flash-windows-x64.exe`. */
export function assetName(t: ReleaseTarget): string {
  return `flash-${t.id}${exeSuffix(t.os)}`;
}

/** The per-platform npm package of flash (baseline builds are release assets only, not npm packages). */
export function platformPackage(t: ReleaseTarget): string {
  return `${NPM_PACKAGE}-${t.id}`;
}

/** The binary's path inside its per-platform npm package. */
export function packageBinPath(os: string): string {
  return `bin/flash${exeSuffix(os)}`;
}
