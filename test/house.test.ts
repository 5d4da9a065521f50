// The house rules of core/ (docs/architecture.md): no loose files but index.ts, imports only in the allowed
// direction, and comments that cite public sources or files in this repository, never notes outside it.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
const CORE = join(ROOT, "core");

/** Which core folders each core folder may import (besides itself). commands → everything → base. */
const ALLOWED: Record<string, string[]> = {
  base: [],
  workspace: ["base"],
  remote: ["base", "workspace"],
  app: ["base", "workspace"],
  dev: ["base", "workspace", "app"],
  runpod: ["base", "remote"],
  emulator: ["base", "remote", "runpod"],
  deploy: ["base", "workspace", "remote", "runpod"],
  commands: ["base", "workspace", "remote", "app", "dev", "runpod", "emulator", "deploy"],
};

function sources(dir: string): string[] {
  return [...new Bun.Glob("**/*.ts").scanSync({ cwd: dir })].map((rel) => join(dir, rel));
}

function folderOf(file: string): string {
  return relative(CORE, file).split("/")[0]!;
}

describe("the house", () => {
  test("core/ has no loose files but index.ts; every other file sits in a concern's folder", () => {
    const loose = readdirSync(CORE).filter((n) => !statSync(join(CORE, n)).isDirectory());
    expect(loose).toEqual(["index.ts"]);
    for (const name of readdirSync(CORE).filter((n) => statSync(join(CORE, n)).isDirectory())) {
      expect(Object.keys(ALLOWED)).toContain(name);
    }
  });

  test("no core import runs against the dependency direction (static and dynamic imports)", () => {
    const wrong: string[] = [];
    for (const file of sources(CORE)) {
      const from = folderOf(file);
      if (from === "index.ts") continue;
      const text = readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/(?:from\s*|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = resolve(dirname(file), spec!);
        if (!target.startsWith(`${CORE}/`)) continue; // templates, worker/, package.json
        const to = folderOf(target);
        if (to === from || to.endsWith(".ts")) continue; // own folder, or core/index.ts (the public API)
        if (!ALLOWED[from]?.includes(to)) wrong.push(`${relative(ROOT, file)} → core/${to} (${spec})`);
      }
    }
    expect(wrong).toEqual([]);
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
});
