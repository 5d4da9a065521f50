// Which paths are flash's own engine: what a reload never purges and a watcher never watches.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ENGINE_DIR, isEngineModule } from "../../core/base/binary";
import { REPO } from "../helpers/workspace";

describe("the engine's folder", () => {
  test("is core/ of the running flash, not the folder of the module that asks", () => {
    expect(ENGINE_DIR).toBe(join(REPO, "core"));
  });

  test("holds the engine's modules at any depth, the folder itself, and every module embedded in the binary", () => {
    expect(isEngineModule(join(REPO, "core/remote/local/pool.ts"))).toBe(true);
    expect(isEngineModule(join(REPO, "core"))).toBe(true);
    expect(isEngineModule("/$bunfs/root/flash")).toBe(true);
  });

  test("holds nothing beside it: examples, worker/, or a sibling whose name starts the same", () => {
    expect(isEngineModule(join(REPO, "01_getting_started/01_hello_world/gpu_worker.ts"))).toBe(false);
    expect(isEngineModule(join(REPO, "worker/main.ts"))).toBe(false);
    expect(isEngineModule(join(REPO, "core-extras/x.ts"))).toBe(false);
  });
});
