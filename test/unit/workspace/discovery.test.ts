import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { discoverCategories, discoverExamples, locateWorkspace } from "../../../core/workspace/discovery";
import { displayTitle, exampleTag, pyTitle, routerPrefix } from "../../../core/workspace/names";
import { makeWorkspace, removeDir, workerSource } from "../../helpers/workspace";

const ws = makeWorkspace({
  "02_ml_inference/01_tts/gpu_worker.ts": workerSource("gpu"),
  "01_getting_started/02_cpu_worker/cpu_worker.ts": workerSource("cpu"),
  "01_getting_started/01_hello_world/gpu_worker.ts": workerSource("gpu"),
  "01_getting_started/03_mixed/workers/gpu/index.ts": workerSource("gpu"),
  "01_getting_started/03_mixed/workers/cpu/index.ts": workerSource("cpu"),
  "01_getting_started/03_mixed/workers/_shared/index.ts": "export const x = 1;",
  "01_getting_started/03_mixed/main.ts": "export const api_router = null;",
  "01_getting_started/03_mixed/zeta_worker.ts": workerSource("zeta"),
  "07_new_category/01_tts/cpu_worker.ts": workerSource("cpu"),
  "01_getting_started/node_modules/x/y.ts": "",
  "misc/01_not_a_category/cpu_worker.ts": workerSource("cpu"),
  "05_empty_category/README.md": "# empty",
});
mkdirSync(join(ws, "01_getting_started/.hidden_example"), { recursive: true });
afterAll(() => removeDir(ws));

describe("names", () => {
  test("Python-style titles", () => {
    expect(pyTitle("02 ml inference")).toBe("02 Ml Inference");
    expect(pyTitle("3d model")).toBe("3D Model");
    expect(displayTitle("01_getting_started")).toBe("01 Getting Started");
    expect(exampleTag("01_getting_started", "01_hello_world")).toBe("01 Getting Started > 01 Hello World");
  });
  test("prefixes include the category", () => {
    expect(routerPrefix("01_getting_started", "01_hello_world", "gpu")).toBe("/01_getting_started/01_hello_world/gpu");
    expect(routerPrefix("01_getting_started", "03_mixed", "api")).toBe("/01_getting_started/03_mixed");
  });
});

describe("discoverExamples", () => {
  test("finds every NN_category/NN_example sorted by path, no hard-coded list", () => {
    const ids = discoverExamples(ws).map((e) => `${e.category}/${e.name}`);
    expect(ids).toEqual([
      "01_getting_started/01_hello_world",
      "01_getting_started/02_cpu_worker",
      "01_getting_started/03_mixed",
      "02_ml_inference/01_tts",
      "07_new_category/01_tts",
    ]);
  });

  test("collects single-file routers (sorted), then workers/*/index.ts (sorted), then main.ts", () => {
    const mixed = discoverExamples(ws).find((e) => e.name === "03_mixed")!;
    expect(mixed.routers.map((r) => [r.pattern, r.type, r.exportName, r.prefix])).toEqual([
      ["single-file", "zeta", "zeta_router", "/01_getting_started/03_mixed/zeta"],
      ["directory", "cpu", "cpu_router", "/01_getting_started/03_mixed/cpu"],
      ["directory", "gpu", "gpu_router", "/01_getting_started/03_mixed/gpu"],
      ["api", "api", "api_router", "/01_getting_started/03_mixed"],
    ]);
    expect(mixed.tag).toBe("01 Getting Started > 03 Mixed");
  });

  test("examples with the same name in two categories get distinct prefixes", () => {
    const prefixes = discoverExamples(ws)
      .filter((e) => e.name === "01_tts")
      .flatMap((e) => e.routers.map((r) => r.prefix));
    expect(prefixes).toEqual(["/02_ml_inference/01_tts/gpu", "/07_new_category/01_tts/cpu"]);
  });

  test("scope narrows to a category or one example", () => {
    expect(discoverExamples(ws, { category: "02_ml_inference" }).map((e) => e.name)).toEqual(["01_tts"]);
    expect(
      discoverExamples(ws, { category: "01_getting_started", example: "02_cpu_worker" }).map((e) => e.name),
    ).toEqual(["02_cpu_worker"]);
  });

  test("follows symlinked example folders", () => {
    const linked = makeWorkspace({ "01_a/99_real/cpu_worker.ts": workerSource("cpu") });
    try {
      symlinkSync(join(linked, "01_a/99_real"), join(linked, "01_a/01_link"));
      expect(discoverExamples(linked).map((e) => e.name)).toEqual(["01_link", "99_real"]);
    } finally {
      removeDir(linked);
    }
  });

  test("categories include empty ones, sorted", () => {
    expect(discoverCategories(ws)).toEqual([
      "01_getting_started",
      "02_ml_inference",
      "05_empty_category",
      "07_new_category",
    ]);
  });
});

describe("locateWorkspace", () => {
  test("root, category and example scopes", () => {
    expect(locateWorkspace(ws)).toEqual({ root: ws, scope: {} });
    expect(locateWorkspace(join(ws, "02_ml_inference"))).toEqual({ root: ws, scope: { category: "02_ml_inference" } });
    expect(locateWorkspace(join(ws, "01_getting_started/03_mixed/workers/gpu"))).toEqual({
      root: ws,
      scope: { category: "01_getting_started", example: "03_mixed" },
    });
  });
});
