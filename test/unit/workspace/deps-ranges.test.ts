/** Which version ranges of the examples' manifests agree (semver), and how a conflict is named. */
import { describe, expect, test } from "bun:test";
import { findConflicts, rangesCompatible, type Manifest } from "../../../core/workspace/deps";

describe("version ranges (semver)", () => {
  test("compatible and incompatible sets", () => {
    expect(rangesCompatible(["^1.2.0", "~1.2.3"])).toBe(true);
    expect(rangesCompatible(["^1.0.0", "^2.0.0"])).toBe(false);
    expect(rangesCompatible(["1.x || 3.x", ">=3.1 <4"])).toBe(true);
    expect(rangesCompatible([">=1.5.0 <2", "1.4.x || 2.x"])).toBe(false);
    expect(rangesCompatible(["0.33.5", "^0.33.0", "*"])).toBe(true);
    expect(rangesCompatible(["0.33.5", "0.33.4"])).toBe(false);
    // Three ranges that agree pairwise but not all together.
    expect(rangesCompatible([">=1 <3", ">=2 <4", "<2 || >=3"])).toBe(false);
  }, 30_000);

  test("findConflicts names the manifests and ranges, and skips non-semver specs", () => {
    const m = (dir: string, ranges: Record<string, string>): Manifest => ({ dir, ranges, json: {} });
    const conflicts = findConflicts([
      m("", { elysia: "1.4.30" }),
      m("01_a/01_x", { sharp: "^0.33.0", elysia: "^1.4.0", local: "workspace:*" }),
      m("01_a/02_y", { sharp: "^0.34.1", local: "file:../x" }),
      m("02_b/01_z", { sharp: "0.33.5" }),
    ]);
    expect(conflicts).toEqual([
      {
        pkg: "sharp",
        ranges: [
          { dir: "01_a/01_x", range: "^0.33.0" },
          { dir: "01_a/02_y", range: "^0.34.1" },
          { dir: "02_b/01_z", range: "0.33.5" },
        ],
      },
    ]);
  }, 30_000);
});
