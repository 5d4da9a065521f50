// Pure tests of what a reload invalidates and which folders it watches (no server, no watcher).
import { describe, expect, test } from "bun:test";
import { examplesToReload, isRelevantChange, planReload, watchedFolders } from "../../../core/dev/watch";
import { REPO } from "../../helpers/workspace";

describe("reload planning", () => {
  test("an edit inside an example reloads that example only", () => {
    expect(examplesToReload({ paths: ["01_cat/01_one/cpu_worker.ts", "01_cat/01_one/lib/x.ts"] })).toEqual(
      new Set(["01_cat/01_one"]),
    );
  });

  test("a created or deleted category reloads its examples; a category README reloads nothing", () => {
    expect(examplesToReload({ paths: ["02_new"] })).toEqual(new Set(["02_new/*"]));
    expect(examplesToReload({ paths: ["01_cat/README.md"] })).toEqual(new Set());
  });

  test("a module outside every example (shared code, a category module) needs a full rebuild", () => {
    expect(examplesToReload({ paths: ["lib/shared.ts"] })).toBeNull();
    expect(examplesToReload({ paths: ["01_cat/common.ts"] })).toBeNull();
  });

  test("the plan purges the dirty folders and reuses every other example", () => {
    const plan = planReload("/ws", { paths: ["01_cat/01_one/a.ts", "02_other"] });
    expect(plan.dirs.sort()).toEqual(["/ws/01_cat/01_one", "/ws/02_other"]);
    expect(plan.reuse("01_cat/01_one")).toBe(false);
    expect(plan.reuse("02_other/01_x")).toBe(false);
    expect(plan.reuse("01_cat/02_two")).toBe(true);
    const full = planReload("/ws", { paths: ["shared/x.ts"] });
    expect(full.dirs).toEqual(["/ws"]);
    expect(full.reuse("01_cat/01_one")).toBe(false);
  });
});

describe("what a change invalidates (pure)", () => {
  test("data files beside the code (audio, images, docs) and sed's temp files are not changes; code and folders are", () => {
    for (const rel of ["01_cat/01_one/speech.wav", "01_cat/01_one/sample.png", "01_cat/01_one/README.md"]) {
      expect(isRelevantChange(rel)).toBe(false);
    }
    expect(isRelevantChange("01_cat/01_one/sedxKFrDw")).toBe(false);
    for (const rel of ["01_cat/01_one/lib/x.mts", "01_cat/01_one/data.json", "01_cat/01_one", "01_cat/02_new"]) {
      expect(isRelevantChange(rel)).toBe(true);
    }
  });

  test("a change in an example reloads that example; in a category, its examples; elsewhere, everything", () => {
    expect(examplesToReload({ paths: ["01_cat/01_one/cpu_worker.ts", "02_b/03_x/lib/a.ts"] })).toEqual(
      new Set(["01_cat/01_one", "02_b/03_x"]),
    );
    expect(examplesToReload({ paths: ["01_cat"] })).toEqual(new Set(["01_cat/*"]));
    expect(examplesToReload({ paths: ["01_cat/shared.ts"] })).toBeNull();
    expect(examplesToReload({ paths: ["lib/util.ts"] })).toBeNull();
    const plan = planReload("/ws", { paths: ["01_cat/01_one/cpu_worker.ts"] });
    expect(plan.dirs).toEqual(["/ws/01_cat/01_one"]);
    expect(plan.reuse("01_cat/01_one")).toBe(false);
    expect(plan.reuse("01_cat/02_two")).toBe(true);
    expect(planReload("/ws", { paths: ["lib/util.ts"] }).dirs).toEqual(["/ws"]);
  });
});

describe("the watcher of flash's own repository", () => {
  test("watches its categories and shared folders, never the engine (core/)", () => {
    const folders = watchedFolders(REPO, {});
    expect(folders).toContain("01_getting_started");
    expect(folders).not.toContain("core");
  });
});
