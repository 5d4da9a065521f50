import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleHarness } from "../../test/helpers/example";
import { MODELS_DIR, volume } from "./model";

// The example's routes on the unified app, remote functions on a local pool of this file's own, and the volume in a
// temp folder: each run starts with no model. The tests run in order: before any training, a streamed training
// (version 1), a waited-for one (version 2).
const volumesDir = mkdtempSync(join(tmpdir(), "flash-train-serve-"));
const ex = exampleHarness(import.meta.dir, { volumesDir });
afterAll(() => rmSync(volumesDir, { recursive: true, force: true }));
// Worker starts (subprocesses) take seconds on a loaded machine.
setDefaultTimeout(30_000);

const modelsDir = join(volumesDir, volume.name, MODELS_DIR);
const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const VIRGINICA = { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 };
const NO_MODEL = {
  error: "no_model",
  message: "no model trained yet: POST /05_data_workflows/03_train_and_serve/cpu/train first",
};

/** The events of a Server-Sent Events body. */
async function events(res: Response): Promise<{ event: string; data: any }[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1] ?? "message",
      data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!),
    }));
}

describe("03 Train And Serve: before any training", () => {
  test("predict and model answer 503 with what to do", async () => {
    expect(await ex.post("/cpu/predict", { flowers: [SETOSA] })).toEqual({ status: 503, body: NO_MODEL });
    expect(await ex.call("GET", "/cpu/model")).toEqual({ status: 503, body: NO_MODEL });
  });

  test("bad input is a 422 naming the field", async () => {
    const missing = await ex.post("/cpu/predict", { flowers: [{ ...SETOSA, petal_width: undefined }] });
    expect(missing.status).toBe(422);
    expect(missing.body.message).toStartWith("body.flowers.0.petal_width: ");
    const negative = await ex.post("/cpu/predict", { flowers: [{ ...SETOSA, sepal_length: -1 }] });
    expect(negative.status).toBe(422);
    expect(negative.body.message).toStartWith("body.flowers.0.sepal_length: ");
    expect((await ex.post("/cpu/predict", { flowers: [] })).body.message).toStartWith("body.flowers: ");
    const trees = await ex.post("/cpu/train", { trees: 0 });
    expect(trees.status).toBe(422);
    expect(trees.body.message).toBe("body.trees: Expected integer to be greater or equal to 1");
  });
});

describe("03 Train And Serve: train, store, serve", () => {
  test("POST /train/stream streams the data, one event per fold, then the saved version", async () => {
    const res = await ex.request("POST", "/cpu/train/stream", {});
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const got = await events(res);
    expect(got.map((e) => e.data.stage ?? e.event)).toEqual([
      "data",
      "fold",
      "fold",
      "fold",
      "fold",
      "fold",
      "saved",
      "done",
    ]);
    expect(got[0]!.data).toEqual({
      stage: "data",
      samples: 150,
      features: 4,
      classes: ["setosa", "versicolor", "virginica"],
      folds: 5,
    });
    for (const fold of got.slice(1, 6)) expect(fold.data.accuracy).toBeGreaterThan(0.8);
    expect(got[6]!.data).toMatchObject({ stage: "saved", version: 1, stored_as: `${MODELS_DIR}/v0001.json` });
    // Written then renamed: the version file, and no temp file left behind.
    expect(readdirSync(modelsDir)).toEqual(["v0001.json"]);
  });

  test("POST /predict serves the newest model, loaded once by the serving endpoint's instance", async () => {
    const first = await ex.post("/cpu/predict", { flowers: [SETOSA, VIRGINICA] });
    expect(first.status).toBe(200);
    expect(first.body.model_version).toBe(1);
    expect(first.body.predictions.map((p: any) => p.species)).toEqual(["setosa", "virginica"]);
    expect(first.body.predictions[0].confidence).toBeGreaterThan(0.9);
    expect(first.body.model_loads).toBe(1);
    const again = await ex.post("/cpu/predict", { flowers: [SETOSA] });
    expect(again.body).toMatchObject({ model_version: 1, model_loads: 1 });
  });

  test("a new training (POST /train, JSON) is served from the next call on", async () => {
    const trained = await ex.post("/cpu/train", { trees: 10, seed: 7, folds: 3 });
    expect(trained.status).toBe(200);
    expect(trained.body).toMatchObject({ version: 2, stored_as: `${MODELS_DIR}/v0002.json` });
    expect(trained.body.fold_accuracy).toHaveLength(3);
    expect(existsSync(join(modelsDir, "v0002.json"))).toBe(true);
    const served = await ex.post("/cpu/predict", { flowers: [VIRGINICA] });
    expect(served.body).toMatchObject({ model_version: 2, model_loads: 2 });
    const info = await ex.call("GET", "/cpu/model");
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      version: 2,
      params: { trees: 10, max_depth: 5, folds: 3, seed: 7 },
      versions: [1, 2],
      samples: 150,
      model_loads: 2,
    });
    expect(info.body.forest).toBeUndefined();
  });

  test("two trainings at once queue on the one trainer worker and get distinct versions", async () => {
    const small = { trees: 3, folds: 2 };
    const [a, b] = await Promise.all([ex.post("/cpu/train", small), ex.post("/cpu/train", small)]);
    expect([a.body.version, b.body.version].sort()).toEqual([3, 4]);
    expect(readdirSync(modelsDir).sort()).toEqual(["v0001.json", "v0002.json", "v0003.json", "v0004.json"]);
  });

  test("a temp file on the volume is never served: only a renamed version is", async () => {
    writeFileSync(join(modelsDir, ".v0009.json.1234.tmp"), "{ half a mod");
    const served = await ex.post("/cpu/predict", { flowers: [SETOSA] });
    expect(served.body).toMatchObject({ model_version: 4, model_loads: 3 });
  });
});

describe("the docs", () => {
  test("the streaming route declares text/event-stream, the JSON routes their 200 and 503", async () => {
    const doc = (await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json()) as any;
    const base = "/05_data_workflows/03_train_and_serve/cpu";
    expect(Object.keys(doc.paths[`${base}/train/stream`].post.responses["200"].content)).toEqual(["text/event-stream"]);
    expect(Object.keys(doc.paths[`${base}/predict`].post.responses)).toEqual(expect.arrayContaining(["200", "503"]));
    expect(Object.keys(doc.paths[`${base}/model`].get.responses)).toEqual(expect.arrayContaining(["200", "503"]));
  });
});
