import { listExamples } from "./discovery";
import { EXAMPLE_GLOB, examplePackageName } from "./names";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { writeFileAtomic } from "../base/fs";

/** The dependency fields whose ranges must agree across the workspace. */
const DEP_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

/** One package manifest of the workspace: the root (`dir` = "") or an example (`dir` = "NN_cat/NN_ex"). */
export interface Manifest {
  dir: string;
  name?: string;
  /** Dependency name → range, over dependencies, devDependencies and optionalDependencies. */
  ranges: Record<string, string>;
  /** The raw JSON, or undefined when the file is missing or unreadable. */
  json?: Record<string, any>;
  problem?: string;
}

/** A package whose ranges cannot all be satisfied by one version. */
export interface Conflict {
  pkg: string;
  /** Who asks for what (`dir` "" is the root manifest). */
  ranges: { dir: string; range: string }[];
}

/** Everything `flash deps` found, before any change. */
export interface DepsReport {
  root: string;
  examples: Manifest[];
  rootManifest: Manifest;
  /** Examples without a usable package.json (missing, unreadable or unnamed). */
  notPackages: { dir: string; reason: string; fixable: boolean }[];
  /** Examples the root `workspaces` globs do not match. */
  notInWorkspaces: string[];
  /** Package names used by more than one example. */
  duplicateNames: { name: string; dirs: string[] }[];
  conflicts: Conflict[];
  /** Why bun.lock does not match the manifests (empty when it does). */
  lockProblems: string[];
}

function readJson(path: string): { json?: Record<string, any>; problem?: string } {
  if (!existsSync(path)) return { problem: "no package.json" };
  try {
    const json = JSON.parse(readFileSync(path, "utf8"));
    if (!json || typeof json !== "object" || Array.isArray(json))
      return { problem: "package.json is not a JSON object" };
    return { json };
  } catch (err) {
    return { problem: `package.json is not valid JSON (${(err as Error).message})` };
  }
}

function collectRanges(json: Record<string, any> | undefined): Record<string, string> {
  const ranges: Record<string, string> = {};
  for (const field of DEP_FIELDS) {
    for (const [name, range] of Object.entries(json?.[field] ?? {})) {
      if (typeof range === "string") ranges[name] = range;
    }
  }
  return ranges;
}

/** Read one manifest of the workspace. */
function readManifest(root: string, dir: string): Manifest {
  const { json, problem } = readJson(join(root, dir, "package.json"));
  const name = typeof json?.name === "string" && json.name ? json.name : undefined;
  return { dir, name, ranges: collectRanges(json), json, problem };
}

/** The example folders of a workspace (`NN_category/NN_example`, sorted): the same set discovery serves. */
function exampleDirs(root: string): string[] {
  return listExamples(root).map((f) => `${f.category}/${f.name}`);
}

/** The `workspaces` globs of a root manifest (array form or `{ packages: [...] }`). */
function workspaceGlobs(json: Record<string, any> | undefined): string[] {
  const ws = json?.workspaces;
  const list = Array.isArray(ws) ? ws : Array.isArray(ws?.packages) ? ws.packages : [];
  return list.filter((g: unknown): g is string => typeof g === "string");
}

/** True for a range semver can reason about (not `workspace:`, `file:`, git URLs, aliases or dist-tags). */
function isSemverRange(range: string): boolean {
  return semver.validRange(range) !== null;
}

/**
 * Whether one version can satisfy every range: each range is a union of comparator sets, so the ranges agree when
 * some choice of one set per range has a satisfiable conjunction (semver.minVersion finds its lowest version).
 */
export function rangesCompatible(ranges: string[]): boolean {
  const sets = ranges.map((r) =>
    new semver.Range(r).set.map((comparators) => comparators.map((c) => c.value || "*").join(" ")),
  );
  const search = (i: number, acc: string): boolean => {
    if (i === sets.length) return semver.minVersion(new semver.Range(acc.trim() || "*")) !== null;
    return sets[i]!.some((set) => {
      const next = `${acc} ${set}`;
      // Prune early: a partial conjunction that nothing satisfies stays unsatisfiable.
      return semver.minVersion(new semver.Range(next.trim() || "*")) !== null && search(i + 1, next);
    });
  };
  return search(0, "");
}

/** Packages asked for by two or more manifests with ranges no single version satisfies. */
export function findConflicts(manifests: Manifest[]): Conflict[] {
  const byPkg = new Map<string, { dir: string; range: string }[]>();
  for (const m of manifests) {
    for (const [pkg, range] of Object.entries(m.ranges)) {
      if (!isSemverRange(range)) continue;
      if (!byPkg.has(pkg)) byPkg.set(pkg, []);
      byPkg.get(pkg)!.push({ dir: m.dir, range });
    }
  }
  const conflicts: Conflict[] = [];
  for (const [pkg, ranges] of [...byPkg].sort(([a], [b]) => a.localeCompare(b))) {
    if (ranges.length < 2) continue;
    if (!rangesCompatible(ranges.map((r) => r.range))) conflicts.push({ pkg, ranges });
  }
  return conflicts;
}

function sameRecord(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): boolean {
  const ea = Object.entries(a ?? {}).sort(([x], [y]) => x.localeCompare(y));
  const eb = Object.entries(b ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(ea) === JSON.stringify(eb);
}

/** Differences between bun.lock's workspace entries and the manifests (missing, stale, changed dependencies). */
function lockProblems(root: string, manifests: Manifest[]): string[] {
  const lockPath = join(root, "bun.lock");
  if (!existsSync(lockPath)) return ["bun.lock is missing"];
  let lock: any;
  try {
    lock = Bun.JSONC.parse(readFileSync(lockPath, "utf8"));
  } catch (err) {
    return [`bun.lock cannot be read (${(err as Error).message})`];
  }
  const entries: Record<string, any> = lock?.workspaces ?? {};
  const problems: string[] = [];
  for (const m of manifests) {
    if (!m.json) continue;
    const entry = entries[m.dir];
    const label = m.dir || "the root package";
    if (!entry) {
      problems.push(`${label} is not in bun.lock`);
      continue;
    }
    if (m.dir && entry.name !== m.name)
      problems.push(`${label}: bun.lock names it ${entry.name}, package.json ${m.name}`);
    for (const field of [...DEP_FIELDS, "peerDependencies"]) {
      if (!sameRecord(entry[field], m.json[field]))
        problems.push(`${label}: ${field} changed since bun.lock was written`);
    }
  }
  const known = new Set(manifests.map((m) => m.dir));
  for (const dir of Object.keys(entries)) {
    if (!known.has(dir) && new Bun.Glob(EXAMPLE_GLOB).match(dir))
      problems.push(`bun.lock lists ${dir}, which no longer exists`);
  }
  return problems;
}

/** Check a workspace: packages, workspaces globs, duplicate names, range conflicts, lockfile. Changes nothing. */
export function analyzeDeps(root: string): DepsReport {
  const rootManifest = readManifest(root, "");
  const examples = exampleDirs(root).map((dir) => readManifest(root, dir));
  const notPackages = examples
    .filter((m) => m.problem || !m.name)
    .map((m) => ({
      dir: m.dir,
      reason: m.problem ?? "package.json has no name",
      fixable: m.problem === "no package.json" || (!m.problem && !m.name),
    }));
  const globs = workspaceGlobs(rootManifest.json).map((g) => new Bun.Glob(g.replace(/\/+$/, "")));
  const notInWorkspaces = examples.map((m) => m.dir).filter((dir) => !globs.some((g) => g.match(dir)));
  const owners = new Map<string, string[]>();
  for (const m of examples) if (m.name) owners.set(m.name, [...(owners.get(m.name) ?? []), m.dir]);
  const duplicateNames = [...owners].filter(([, dirs]) => dirs.length > 1).map(([name, dirs]) => ({ name, dirs }));
  const usable = [rootManifest, ...examples].filter((m) => m.json);
  const conflicts = findConflicts(usable);
  const lock = rootManifest.json
    ? lockProblems(
        root,
        usable.filter((m) => m.dir === "" || m.name),
      )
    : [];
  return { root, examples, rootManifest, notPackages, notInWorkspaces, duplicateNames, conflicts, lockProblems: lock };
}

/** True when nothing in the report is out of line. */
export function isClean(r: DepsReport): boolean {
  return (
    !r.rootManifest.problem &&
    r.notPackages.length === 0 &&
    r.notInWorkspaces.length === 0 &&
    r.duplicateNames.length === 0 &&
    r.conflicts.length === 0 &&
    r.lockProblems.length === 0
  );
}

/** True when the report holds a problem `flash deps` cannot fix by itself (it needs a person to choose). */
export function hasUnfixable(r: DepsReport): boolean {
  return (
    !!r.rootManifest.problem ||
    r.notPackages.some((p) => !p.fixable) ||
    r.duplicateNames.length > 0 ||
    r.conflicts.length > 0
  );
}

/** The report as lines for the terminal: each problem with the examples and ranges involved. */
export function formatReport(r: DepsReport): string[] {
  const lines: string[] = [];
  if (r.rootManifest.problem) lines.push(`root: ${r.rootManifest.problem}`);
  for (const p of r.notPackages) lines.push(`${p.dir} is not a workspace package: ${p.reason}`);
  for (const dir of r.notInWorkspaces) lines.push(`${dir} is not matched by the root "workspaces" globs`);
  for (const d of r.duplicateNames) lines.push(`package name ${d.name} is used by ${d.dirs.join(" and ")}`);
  for (const c of r.conflicts) {
    lines.push(`${c.pkg}: no version satisfies every range`);
    const width = Math.max(...c.ranges.map((x) => (x.dir || "(root)").length));
    for (const x of c.ranges) lines.push(`    ${(x.dir || "(root)").padEnd(width)}  ${x.range}`);
  }
  for (const p of r.lockProblems) lines.push(p);
  return lines;
}

/**
 * Fix what can be fixed without a person's choice, writing each file atomically: give examples a package.json
 * (or a name), and add the examples glob to the root `workspaces`. Returns the files written. The lockfile is
 * refreshed separately (`bun install`), after this.
 */
export function fixManifests(r: DepsReport): string[] {
  const written: string[] = [];
  const taken = new Set(r.examples.map((m) => m.name).filter((n): n is string => !!n));
  for (const p of r.notPackages.filter((x) => x.fixable)) {
    const m = r.examples.find((e) => e.dir === p.dir)!;
    const [category, example] = p.dir.split("/") as [string, string];
    const name = examplePackageName(category, example, taken);
    taken.add(name);
    const json = m.json ? { name, ...m.json } : { name, version: "0.1.0", private: true, type: "module" };
    writeFileAtomic(join(r.root, p.dir, "package.json"), `${JSON.stringify(json, null, 2)}\n`);
    written.push(`${p.dir}/package.json`);
  }
  if (r.notInWorkspaces.length > 0 && r.rootManifest.json) {
    const json = structuredClone(r.rootManifest.json);
    if (json.workspaces && !Array.isArray(json.workspaces) && Array.isArray(json.workspaces.packages)) {
      json.workspaces.packages = [...json.workspaces.packages, EXAMPLE_GLOB];
    } else if (!workspaceGlobs(json).includes(EXAMPLE_GLOB)) {
      json.workspaces = [...workspaceGlobs(json), EXAMPLE_GLOB];
    }
    writeFileAtomic(join(r.root, "package.json"), `${JSON.stringify(json, null, 2)}\n`);
    written.push("package.json");
  }
  return written;
}
