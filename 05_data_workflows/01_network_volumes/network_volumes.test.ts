import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleHarness } from "../../test/helpers/example";

// The example on the local pool, with its volume in a temp folder: the GPU writer (a process worker holding the
// model) and the CPU load-balanced reader (a thread worker) share the folder; results are cached there.
const volumes = mkdtempSync(join(tmpdir(), "flash-05-01-"));
const folder = join(volumes, "flash-05-01-volume", "tags");
const ex = exampleHarness(import.meta.dir, { volumesDir: volumes });
setDefaultTimeout(60_000);
afterAll(() => rmSync(volumes, { recursive: true, force: true }));

const FRENCH = "Où est la gare, s'il vous plaît ?";

describe("writer and reader share the volume", () => {
  test("POST /gpu/tag runs the model once and stores the result on the volume", async () => {
    const first = await ex.post("/gpu/tag", { text: FRENCH });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ language: "fra", cached: false, instance_calls: 1, model: "lande 1.0.10" });
    const file = join(folder, `${first.body.id}.json`);
    expect(first.body.stored_as).toBe(`tags/${first.body.id}.json`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ id: first.body.id, text: FRENCH, language: "fra" });
    expect(readdirSync(folder).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("the same text is read back from the volume by the same remote instance", async () => {
    const again = await ex.post("/gpu/tag", { text: FRENCH });
    expect(again.body).toMatchObject({ language: "fra", cached: true, instance_calls: 2 });
  });

  test("the CPU endpoint lists and serves what the GPU endpoint wrote", async () => {
    await ex.post("/gpu/tag", { text: "Wo ist der Bahnhof, bitte?" });
    const list = await ex.call("GET", "/cpu/results");
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(2);
    expect(list.body.results.map((r: { language: string }) => r.language)).toEqual(["fra", "deu"]);
    const one = await ex.call("GET", `/cpu/results/${list.body.results[1].id}`);
    expect(one.body).toMatchObject({ text: "Wo ist der Bahnhof, bitte?", language: "deu" });
    expect((await ex.pool("05_01_gpu")).workerKind).toBe("process");
    expect((await ex.pool("05_01_cpu")).workerKind).toBe("process");
  });
});

describe("errors", () => {
  test("an unknown id is a 404, a malformed one a 422", async () => {
    expect(await ex.call("GET", "/cpu/results/0000000000000000")).toEqual({
      status: 404,
      body: { error: "not_found", message: "no result 0000000000000000 on the volume" },
    });
    const bad = await ex.call("GET", "/cpu/results/..%2F..%2Fetc");
    expect(bad.status).toBe(422);
  });

  test("a text without letters is a 400 and writes nothing", async () => {
    const before = readdirSync(folder).length;
    expect(await ex.post("/gpu/tag", { text: "1234 5678" })).toEqual({
      status: 400,
      body: { error: "bad_request", message: "text must contain letters" },
    });
    expect(readdirSync(folder).length).toBe(before);
  });

  test("an empty or missing text is a 422 naming the field", async () => {
    for (const body of [{ text: "" }, {}]) {
      const res = await ex.post("/gpu/tag", body);
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc).toEqual(["body", "text"]);
    }
    expect(existsSync(join(volumes, "flash-05-01-volume"))).toBe(true);
  });
});
