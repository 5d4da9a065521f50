/**
 * docs/architecture.md's table of imports between folders is the code's: every relative import in core/ and worker/
 * is read, mapped to the folder it crosses into, and compared with the table, both ways. A new edge fails here
 * (and in test/house.test.ts, which allows only the table's edges) until it is written, with its reason, in the doc.
 */
import { describe, expect, test } from "bun:test";
import { codeEdges, importTable } from "../helpers/architecture";

describe("docs/architecture.md: which way imports go", () => {
  const code = codeEdges();
  const doc = importTable();

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
    expect(doc.limits.size).toBeGreaterThan(0);
    for (const [edge, [kind, file]] of doc.limits) {
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
