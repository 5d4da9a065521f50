/**
 * docs/architecture.md's table of imports between folders is the code's: every relative import in core/ and worker/
 * is read, mapped to the folder it crosses into, and compared with the table, both ways. A new edge fails here
 * until it is written (with its reason) in the doc.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO } from "../helpers/workspace";

/** The folder (or root file) a repository path belongs to, as the doc's table names it. */
function area(rel: string): string {
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

/** Every import crossing folders: `from` area → `to` area → the imports (importing file, imported file). */
type Crossing = { source: string; target: string };
function codeEdges(): Map<string, Map<string, Crossing[]>> {
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

/** The doc's table: folder → the folders it imports from, and the "(only `file`)" / "(from `file`)" limits. */
function docEdges(): { edges: Map<string, Set<string>>; only: Map<string, [kind: "only" | "from", file: string]> } {
  const doc = readFileSync(join(REPO, "docs/architecture.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Which way imports go"), doc.indexOf("## Flow 1"));
  const edges = new Map<string, Set<string>>();
  const only = new Map<string, [kind: "only" | "from", file: string]>();
  for (const row of section.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)) {
    const from = row[1]!;
    const targets = new Set<string>();
    for (const cell of row[2]!.split(/,\s*(?=`)/)) {
      const to = /^`([^`]+)`/.exec(cell)?.[1];
      if (!to) continue;
      targets.add(to);
      const limit = /\((only|from) `([^`]+)`\)/.exec(cell);
      if (limit) only.set(`${from} → ${to}`, [limit[1] as "only" | "from", limit[2]!]);
    }
    edges.set(from, targets);
  }
  return { edges, only };
}

describe("docs/architecture.md: which way imports go", () => {
  const code = codeEdges();
  const doc = docEdges();

  test("the table lists every folder that imports across folders, and nothing else", () => {
    expect([...doc.edges.keys()].sort()).toEqual([...code.keys()].sort());
  });

  test("each folder imports from exactly the folders its row names", () => {
    const wrong: string[] = [];
    for (const [from, targets] of code) {
      const actual = [...targets.keys()].sort();
      const written = [...(doc.edges.get(from) ?? [])].sort();
      if (JSON.stringify(actual) !== JSON.stringify(written))
        wrong.push(`${from}: code ${actual.join(" ")} | doc ${written.join(" ")}`);
    }
    expect(wrong).toEqual([]);
  });

  test('an "(only `file`)" edge imports that one file; a "(from `file`)" edge is made by that one file', () => {
    expect(doc.only.size).toBeGreaterThan(0);
    for (const [edge, [kind, file]] of doc.only) {
      const [from, to] = edge.split(" → ") as [string, string];
      const crossings = code.get(from)?.get(to) ?? [];
      expect(crossings.length, edge).toBeGreaterThan(0);
      const files = crossings.map((c) => (kind === "only" ? c.target : c.source));
      expect(
        files.every((f) => f.endsWith(`/${file}`)),
        `${edge}: ${files.join(", ")}`,
      ).toBe(true);
    }
  });
});
