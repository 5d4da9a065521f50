import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { exampleHarness } from "../../test/helpers/example";

// The example on the local pool, with its volume in a temp folder: the tagger (a process worker holding the model)
// and the load-balanced reader (another process worker) share the folder; weights and results are cached there.
const volumes = mkdtempSync(join(tmpdir(), "flash-05-01-"));
const folder = join(volumes, "flash-05-01-volume", "tags");
const models = join(volumes, "flash-05-01-volume", "models", "lande-1.0.10");
const ex = exampleHarness(import.meta.dir, { volumesDir: volumes });
setDefaultTimeout(60_000);
afterAll(() => rmSync(volumes, { recursive: true, force: true }));

const FRENCH = "Où est la gare, s'il vous plaît ?";

const sha256 = (file: string) => new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
let firstWorker = "";

describe("model weights cached on the volume", () => {
  test("the first worker loads the weights from the npm package and copies them to the volume", async () => {
    expect(existsSync(models)).toBe(false);
    const first = await ex.post("/tagger/tag", { text: "The weights are on the volume now." });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ language: "eng", model_source: "package", model_folder: "models/lande-1.0.10" });
    firstWorker = first.body.worker;
    const manifest = JSON.parse(readFileSync(join(models, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ model: "lande 1.0.10", copied: { worker: firstWorker } });
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(["weights.json", "ngrams.json", "labels.json"]);
    for (const f of manifest.files) {
      expect(statSync(join(models, f.name)).size).toBe(f.bytes);
      expect(sha256(join(models, f.name))).toBe(f.sha256);
    }
    expect(manifest.files[0].bytes).toBeGreaterThan(100_000); // the network's layers: the bulk of the model
    expect(readdirSync(dirname(models))).toEqual(["lande-1.0.10"]); // no temp folder left behind
  });

  test("a fresh worker process loads them from the volume and leaves the copy as it is", async () => {
    const pool = ex.target.poolsByName().get("05_01_tagger")!;
    const [firstPid] = pool.pids();
    const weights = statSync(join(models, "weights.json")).mtimeMs;
    await pool.recycle(); // the idle worker stops; the next call starts a new process, as a later cold start does
    const again = await ex.post("/tagger/tag", { text: "Et maintenant, elles viennent du volume." });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ language: "fra", model_source: "volume", instance_calls: 1, cached: false });
    expect(again.body.worker).not.toBe(firstWorker);
    expect(pool.pids()).toEqual([Number(again.body.worker.replace("pid ", ""))]);
    expect(pool.pids()).not.toContain(firstPid);
    expect(statSync(join(models, "weights.json")).mtimeMs).toBe(weights);
    expect(JSON.parse(readFileSync(join(models, "manifest.json"), "utf8")).copied.worker).toBe(firstWorker);
  });

  test("a copy that no longer matches its manifest is replaced from the package", async () => {
    await Bun.write(join(models, "labels.json"), "[]"); // cut short, as by a worker stopped while copying
    const pool = ex.target.poolsByName().get("05_01_tagger")!;
    await pool.recycle();
    const third = await ex.post("/tagger/tag", { text: "Jetzt lädt der Worker die Gewichte wieder aus dem Paket." });
    expect(third.body).toMatchObject({ language: "deu", model_source: "package" });
    const manifest = JSON.parse(readFileSync(join(models, "manifest.json"), "utf8"));
    expect(manifest.copied.worker).toBe(third.body.worker);
    expect(sha256(join(models, "labels.json"))).toBe(manifest.files[2].sha256);
  });

  test("GET /reader/models lists the copy on the volume with its manifest", async () => {
    const res = await ex.call("GET", "/reader/models");
    expect(res.status).toBe(200);
    expect(res.body.models).toHaveLength(1);
    expect(res.body.models[0]).toEqual({
      folder: "models/lande-1.0.10",
      ...JSON.parse(readFileSync(join(models, "manifest.json"), "utf8")),
    });
  });
});

describe("writer and reader share the volume", () => {
  test("POST /tagger/tag runs the model once and stores the result on the volume", async () => {
    const first = await ex.post("/tagger/tag", { text: FRENCH });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ language: "fra", cached: false, instance_calls: 2, model: "lande 1.0.10" });
    const file = join(folder, `${first.body.id}.json`);
    expect(first.body.stored_as).toBe(`tags/${first.body.id}.json`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ id: first.body.id, text: FRENCH, language: "fra" });
    expect(readdirSync(folder).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("the same text is read back from the volume by the same remote instance", async () => {
    const again = await ex.post("/tagger/tag", { text: FRENCH });
    expect(again.body).toMatchObject({ language: "fra", cached: true, instance_calls: 3 });
  });

  test("the reader lists and serves what the tagger wrote", async () => {
    await ex.post("/tagger/tag", { text: "Wo ist der Bahnhof, bitte?" });
    const list = await ex.call("GET", "/reader/results");
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(5);
    expect(list.body.results.map((r: { language: string }) => r.language)).toEqual(["eng", "fra", "deu", "fra", "deu"]);
    const one = await ex.call("GET", `/reader/results/${list.body.results[4].id}`);
    expect(one.body).toMatchObject({ text: "Wo ist der Bahnhof, bitte?", language: "deu" });
    expect((await ex.pool("05_01_tagger")).workerKind).toBe("process");
    expect((await ex.pool("05_01_reader")).workerKind).toBe("process");
  });
});

describe("errors", () => {
  test("an unknown id is a 404, a malformed one a 422", async () => {
    expect(await ex.call("GET", "/reader/results/0000000000000000")).toEqual({
      status: 404,
      body: { error: "not_found", message: "no result 0000000000000000 on the volume" },
    });
    const bad = await ex.call("GET", "/reader/results/..%2F..%2Fetc");
    expect(bad.status).toBe(422);
  });

  test("a text without letters is a 400 and writes nothing", async () => {
    const before = readdirSync(folder).length;
    expect(await ex.post("/tagger/tag", { text: "1234 5678" })).toEqual({
      status: 400,
      body: { error: "bad_request", message: "text must contain letters" },
    });
    expect(readdirSync(folder).length).toBe(before);
  });

  test("an empty or missing text is a 422 naming the field", async () => {
    for (const body of [{ text: "" }, {}]) {
      const res = await ex.post("/tagger/tag", body);
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(["body", "text"]);
    }
    expect(existsSync(join(volumes, "flash-05-01-volume"))).toBe(true);
  });
});
