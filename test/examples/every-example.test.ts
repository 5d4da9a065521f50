/**
 * Every example runs on every target: each one's readme.test.ts must run its README's requests through
 * readmeSuite, which runs them on --target local and --target emulator and compares the answers. This test keeps
 * a new example from skipping that (AGENTS.md: examples are made with flash init and tested on both targets).
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { discoverExamples } from "../../core/workspace/discovery";

const ROOT = resolve(import.meta.dir, "../..");

test("every example has a readme.test.ts that runs its README on local and emulator", async () => {
  const examples = discoverExamples(ROOT);
  expect(examples.length).toBeGreaterThanOrEqual(11);
  const missing = examples
    .map((e) => join(e.dir, "readme.test.ts"))
    .filter((file) => !existsSync(file) || !/readmeSuite\(import\.meta\.dir/.test(readFileSync(file, "utf8")));
  expect(missing).toEqual([]);
});

test("every example README has the sections of the template, in order", async () => {
  const sections = [
    "Overview",
    "What you'll learn",
    "Prerequisites",
    "Architecture",
    "Quick start",
    "Endpoints",
    "Deployment",
    "Cost notes",
    "Common issues",
    "References",
  ];
  const problems: string[] = [];
  for (const e of discoverExamples(ROOT)) {
    const headings = [...readFileSync(join(e.dir, "README.md"), "utf8").matchAll(/^## (.+)$/gm)].map((m) =>
      m[1]!.toLowerCase(),
    );
    let at = -1;
    for (const s of sections) {
      const i = headings.findIndex((h, k) => k > at && h.startsWith(s.toLowerCase()));
      if (i < 0) problems.push(`${e.category}/${e.name}: no "## ${s}" after the previous section`);
      else at = i;
    }
  }
  expect(problems).toEqual([]);
});

test("the root README's table lists every example, in path order, each linking to its README", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(
    readme.indexOf("## The examples"),
    readme.indexOf("\n## ", readme.indexOf("## The examples") + 1),
  );
  const rows = [...section.matchAll(/^\| \[([^\]]+)\]\(([^)]+)\) \|/gm)].map((m) => ({ name: m[1]!, link: m[2]! }));
  const examples = discoverExamples(ROOT).map((e) => `${e.category}/${e.name}`);
  expect(rows.map((r) => r.name)).toEqual(examples);
  expect(rows.filter((r) => r.link !== `${r.name}/README.md`)).toEqual([]);
});
