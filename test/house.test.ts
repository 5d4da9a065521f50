// The house rules of core/ (docs/architecture.md): no loose files but index.ts, every folder in the page's picture,
// imports only along the page's table (read from the page: the rule is written once), and comments that cite
// public sources or files in this repository, never notes outside it.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { allowedBy, codeEdges, importTable, pictureFolders } from "./helpers/architecture";

const ROOT = join(import.meta.dir, "..");
const CORE = join(ROOT, "core");

describe("the house", () => {
  test("core/ has no loose files but index.ts; every other file sits in a folder the architecture page shows", () => {
    const loose = readdirSync(CORE).filter((n) => !statSync(join(CORE, n)).isDirectory());
    expect(loose).toEqual(["index.ts"]);
    const folders = readdirSync(CORE).filter((n) => statSync(join(CORE, n)).isDirectory());
    expect(folders.filter((name) => !pictureFolders().includes(name))).toEqual([]);
  });

  test("every core import (static and dynamic) is an edge of the architecture page's table", () => {
    const table = importTable();
    const wrong: string[] = [];
    for (const [from, targets] of codeEdges()) {
      if (!from.startsWith("core/")) continue;
      for (const [to, crossings] of targets) {
        for (const c of crossings) {
          if (!allowedBy(table, from, to, c)) wrong.push(`${c.source} → ${c.target} (${from} → ${to})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("core/base/ imports no other folder of flash", () => {
    expect([...(codeEdges().get("core/base/")?.keys() ?? [])]).toEqual([]);
  });

  test("comments cite public docs or files in the repository, never notes outside it", () => {
    const outside =
      /\.\.\/shared\/|(?:flash-sdk|runpod-api|flash-examples)\.md|review §|the review's|newcomer probe|DESIGN\.md/i;
    const hits = ["core", "worker", "scripts", "templates", "test", "bench"]
      .flatMap((d) => [...new Bun.Glob("**/*.{ts,js,tpl}").scanSync({ cwd: join(ROOT, d) })].map((r) => join(d, r)))
      .filter((rel) => rel !== "test/house.test.ts" && outside.test(readFileSync(join(ROOT, rel), "utf8")));
    expect(hits).toEqual([]);
  });

  test("test titles say what behaves how, never which review finding they answer (an id such as F10 or D4)", () => {
    const title = /\b(?:test|it|describe)(?:\.\w+)?\(\s*(["'`])((?:(?!\1)[^\\]|\\.)*)\1/g;
    const id = /(?:^|[;,(]\s*)[A-Z]{1,2}\d{1,2}[a-z]?(?:-\d+)?(?::|\))|§/;
    const files = [
      ...[...new Bun.Glob("**/*.test.ts").scanSync({ cwd: join(ROOT, "test") })].map((r) => join("test", r)),
      ...new Bun.Glob("[0-9][0-9]_*/[0-9][0-9]_*/**/*.test.ts").scanSync({ cwd: ROOT }),
    ].filter((rel) => !rel.includes("node_modules"));
    const hits: string[] = [];
    for (const rel of files) {
      for (const m of readFileSync(join(ROOT, rel), "utf8").matchAll(title)) {
        if (id.test(m[2]!)) hits.push(`${rel}: ${m[2]}`);
      }
    }
    expect(files.length).toBeGreaterThan(40);
    expect(hits).toEqual([]);
  });

  test("Runpod's facts are written once, in core/runpod/: no endpoint mutations or platform timeouts restated", async () => {
    const { DEFAULT_EXECUTION_TIMEOUT_MS } = await import("../core/runpod/platform");
    // The mutations' GraphQL text: the emulator serves them; every client sends them from core/runpod/.
    const own = (rel: string) => rel.startsWith("core/runpod/");
    const server = (rel: string) => rel.startsWith("core/emulator/");
    // remote/ may not import runpod/: its local pool restates the default execution timeout, held equal below.
    const pool = "core/remote/local/pool.ts";
    const hits: string[] = [];
    for (const rel of ["core", "worker"].flatMap((d) =>
      [...new Bun.Glob("**/*.ts").scanSync({ cwd: join(ROOT, d) })].map((r) => `${d}/${r}`),
    )) {
      if (own(rel)) continue;
      const text = readFileSync(join(ROOT, rel), "utf8");
      if (!server(rel) && /\b(saveEndpoint|deleteEndpoint)\(\s*(input|id)\s*:/.test(text))
        hits.push(`${rel}: endpoint mutation`);
      if (/\b330_000\b/.test(text)) hits.push(`${rel}: 330_000`);
      if (/\b600_000\b/.test(text) && rel !== pool) hits.push(`${rel}: 600_000`);
    }
    expect(hits).toEqual([]);
    const restated = /DEFAULT_EXECUTION_TIMEOUT_MS = ([\d_]+);/.exec(readFileSync(join(ROOT, pool), "utf8"))?.[1];
    expect(Number(restated?.replaceAll("_", ""))).toBe(DEFAULT_EXECUTION_TIMEOUT_MS);
  });
});
