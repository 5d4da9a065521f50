// The module cache of a workspace: what a reload (or a build) drops, and what it keeps.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { purgeModuleCache } from "../../core/workspace/modules";
import { REPO } from "../helpers/workspace";

describe("module-cache purge", () => {
  test("drops the modules under a folder (not node_modules, not the kept ones), so the next import reads them again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flash-purge-"));
    try {
      const file = join(dir, "a.ts");
      const kept = join(dir, "keep");
      writeFileSync(file, "export const v = 1;\n");
      await Bun.write(join(kept, "k.ts"), "export const k = 1;\n");
      expect((await import(file)).v).toBe(1);
      await import(join(kept, "k.ts"));
      writeFileSync(file, "export const v = 2;\n");
      expect((await import(file)).v).toBe(1); // cached
      expect(purgeModuleCache(dir, [kept])).toBe(1);
      expect(require.cache[join(kept, "k.ts")]).toBeDefined();
      expect((await import(file)).v).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the engine survives a reload of the repository that holds it", () => {
  // In flash's own repository the workspace root contains core/: a full reload purges the root, and must leave the
  // engine as one instance (its pools, registries and shutdown hooks live in its modules). Run in a subprocess, so
  // purging the whole repository does not touch this test process's modules.
  test("purgeModuleCache(repo) with the default keep leaves every core/ module cached and the public API the same object", async () => {
    const script = `
      import { join } from "node:path";
      const repo = ${JSON.stringify(REPO)};
      const { purgeModuleCache } = await import(join(repo, "core/workspace/modules.ts"));
      const before = await import(join(repo, "core/index.ts"));
      const engine = Object.keys(require.cache).filter((k) => k.startsWith(join(repo, "core") + "/"));
      purgeModuleCache(repo);
      const dropped = engine.filter((k) => !(k in require.cache));
      const after = await import(join(repo, "core/index.ts"));
      console.log(JSON.stringify({ engine: engine.length, dropped, same: before.remote === after.remote }));
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const result = JSON.parse(out.trim().split("\n").pop()!);
    expect(result.engine).toBeGreaterThan(20);
    expect(result.dropped).toEqual([]);
    expect(result.same).toBe(true);
  });
});
