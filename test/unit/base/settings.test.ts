import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_SETTINGS, setting, settingsTable } from "../../../core/base/settings";

const ROOT = join(import.meta.dir, "../../..");

describe("settings", () => {
  test("a value from the environment wins; an empty or missing one gives the default", () => {
    expect(setting("FLASH_PORT", { FLASH_PORT: "9000" })).toBe("9000");
    expect(setting("FLASH_PORT", { FLASH_PORT: "" })).toBe("8888");
    expect(setting("FLASH_PORT", {})).toBe("8888");
    expect(setting("RUNPOD_API_KEY", {})).toBeUndefined();
  });

  test("every FLASH_* and RUNPOD_* variable the code names is in the catalog", () => {
    const known = new Set(ALL_SETTINGS.map((s) => s.name));
    const unknown = new Set<string>();
    const files = ["cli.ts", "core/**/*.ts", "worker/**/*.ts", "worker/**/*.js", "scripts/**/*.ts"].flatMap((g) => [
      ...new Bun.Glob(g).scanSync({ cwd: ROOT }),
    ]);
    expect(files.length).toBeGreaterThan(50);
    for (const rel of files) {
      const text = readFileSync(join(ROOT, rel), "utf8");
      for (const [name] of text.matchAll(/\b(?:FLASH|RUNPOD)_[A-Z][A-Z0-9_]*[A-Z0-9]\b/g)) {
        if (!known.has(name)) unknown.add(`${name} (${rel})`);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  test("the README's table of variables is the one the catalog generates (bun scripts/settings-table.ts)", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /<!-- settings:start[^>]*-->\n([\s\S]*?)\n<!-- settings:end -->/.exec(readme);
    expect(block?.[1]).toBe(settingsTable());
  });
});
