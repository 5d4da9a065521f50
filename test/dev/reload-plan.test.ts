// Pure tests of what a reload invalidates and which folders it watches (no server, no watcher).
import { describe, expect, test } from "bun:test";
import { examplesToReload, planReload, watchedFolders } from "../../core/dev/watch";
import { REPO } from "../helpers/workspace";

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

describe("the watcher of flash's own repository", () => {
  test("watches its categories and shared folders, never the engine (core/)", () => {
    const folders = watchedFolders(REPO, {});
    expect(folders).toContain("01_getting_started");
    expect(folders).not.toContain("core");
  });
});
