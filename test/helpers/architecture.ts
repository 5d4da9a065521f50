/**
 * docs/architecture.md's table of imports between folders, read once for the two tests that hold it: the house
 * test (no core import outside the table) and the architecture page's test (the table is exactly the code's).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO } from "./workspace";

/** The folder (or root file) a repository path belongs to, as the doc's table names it. */
export function area(rel: string): string {
  const parts = rel.split("/");
  if (parts[0] === "core") {
    if (parts.length === 1 || (parts.length === 2 && /^index(\.ts)?$/.test(parts[1]!))) return "core/index.ts";
    return `core/${parts[1]}/`;
  }
  return parts.length === 1 ? parts[0]! : `${parts[0]}/`;
}

/** A relative import resolved to a repository path (`..` is core/index.ts; extensionless specifiers get theirs). */
function resolveImport(fromRel: string, spec: string): string {
  const abs = resolve(dirname(join(REPO, fromRel)), spec);
  for (const candidate of [abs, `${abs}.ts`, join(abs, "index.ts")]) {
    if (existsSync(candidate) && !candidate.endsWith("/core")) return relative(REPO, candidate);
  }
  return relative(REPO, abs.endsWith("/core") ? join(abs, "index.ts") : abs);
}

/** One import that crosses folders: the importing file and the imported one. */
export type Crossing = { source: string; target: string };

/** Every import in core/ and worker/ (static and dynamic) that crosses folders: from area → to area → crossings. */
export function codeEdges(): Map<string, Map<string, Crossing[]>> {
  const edges = new Map<string, Map<string, Crossing[]>>();
  for (const rel of new Bun.Glob("{core,worker}/**/*.{ts,js}").scanSync({ cwd: REPO })) {
    const text = readFileSync(join(REPO, rel), "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)"(\.{1,2}(?:\/[^"]*)?)"/gm)) {
      const target = resolveImport(rel, m[1]!);
      const from = area(rel);
      const to = area(target);
      if (from === to) continue;
      const byArea = edges.get(from) ?? new Map<string, Crossing[]>();
      edges.set(from, byArea);
      const crossings = byArea.get(to) ?? [];
      byArea.set(to, crossings);
      crossings.push({ source: rel, target });
    }
  }
  return edges;
}

/** The doc's import table. */
export interface ImportTable {
  /** folder → the folders (and root files) it may import from. */
  edges: Map<string, Set<string>>;
  /** `from → to` → "only `file`" (the one file imported) or "from `file`" (the one file importing). */
  limits: Map<string, [kind: "only" | "from", file: string]>;
}

/** The table of docs/architecture.md's "Which way imports go" section. */
export function importTable(): ImportTable {
  const doc = readFileSync(join(REPO, "docs/architecture.md"), "utf8");
  const start = doc.indexOf("## Which way imports go");
  const section = doc.slice(start, doc.indexOf("\n## ", start + 1));
  const edges = new Map<string, Set<string>>();
  const limits = new Map<string, [kind: "only" | "from", file: string]>();
  for (const row of section.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)) {
    const from = row[1]!;
    const targets = new Set<string>();
    for (const cell of row[2]!.split(/,\s*(?=`)/)) {
      const to = /^`([^`]+)`/.exec(cell)?.[1];
      if (!to) continue;
      targets.add(to);
      const limit = /\((only|from) `([^`]+)`\)/.exec(cell);
      if (limit) limits.set(`${from} → ${to}`, [limit[1] as "only" | "from", limit[2]!]);
    }
    edges.set(from, targets);
  }
  return { edges, limits };
}

/** Whether the table allows `crossing` (an import from `from` into `to`), its "only"/"from" limit included. */
export function allowedBy(table: ImportTable, from: string, to: string, crossing: Crossing): boolean {
  if (!table.edges.get(from)?.has(to)) return false;
  const limit = table.limits.get(`${from} → ${to}`);
  if (!limit) return true;
  const [kind, file] = limit;
  return (kind === "only" ? crossing.target : crossing.source).endsWith(`/${file}`);
}

/** The folders docs/architecture.md's picture names under core/ (`core/<name>/`). */
export function pictureFolders(): string[] {
  const doc = readFileSync(join(REPO, "docs/architecture.md"), "utf8");
  const start = doc.indexOf("## The picture");
  const section = doc.slice(start, doc.indexOf("\n## ", start + 1));
  return [...new Set([...section.matchAll(/\bcore\/([a-z]+)\//g)].map((m) => m[1]!))];
}
