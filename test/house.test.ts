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
  remote: ["base"],
  dev: ["base", "workspace", "remote"],
  runpod: ["base", "remote"],
  emulator: ["base", "remote", "runpod"],
  deploy: ["base", "workspace", "remote", "runpod"],
  commands: ["base", "workspace", "remote", "dev", "runpod", "emulator", "deploy"],
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
    const outside = /\.\.\/shared\/|(?:flash-sdk|runpod-api|flash-examples)\.md|review §|DESIGN\.md/;
    const hits = ["core", "worker", "scripts", "templates"]
      .flatMap((d) => [...new Bun.Glob("**/*.{ts,js,tpl}").scanSync({ cwd: join(ROOT, d) })].map((r) => join(d, r)))
      .filter((rel) => outside.test(readFileSync(join(ROOT, rel), "utf8")));
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
