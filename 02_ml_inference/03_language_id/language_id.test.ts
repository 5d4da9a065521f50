import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { identifyLanguages } from "./cpu_worker";
import { identify, LANGUAGE_NAMES, LIMITS } from "./identify";

const ex = exampleHarness(import.meta.dir);

// The first call starts a worker and loads the model.
setDefaultTimeout(60_000);

describe("identify (the model code, in-process)", () => {
  test("names the language of sentences in several scripts, reliably", async () => {
    const texts = [
      "The quick brown fox jumps over the lazy dog.",
      "Der schnelle braune Fuchs springt über den faulen Hund.",
      "Le renard brun rapide saute par-dessus le chien paresseux.",
      "El rápido zorro marrón salta sobre el perro perezoso.",
      "Быстрая коричневая лиса прыгает через ленивую собаку.",
      "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
      "Nopea ruskea kettu hyppää laiskan koiran yli.",
    ];
    const { results } = await identify({ texts, top: 1 });
    expect(results.map((r) => r.language)).toEqual(["eng", "deu", "fra", "spa", "rus", "ell", "fin"]);
    expect(results.every((r) => r.reliable && r.confidence >= 0.7)).toBe(true);
  });

  test("short text gets a guess marked unreliable; text without letters is und", async () => {
    const { results } = await identify({ texts: ["ok", "12345 !!"] });
    expect(results[0]).toMatchObject({ reliable: false, letters: 2 });
    expect(results[1]).toEqual({
      language: "und",
      name: "Undetermined",
      confidence: 0,
      reliable: false,
      candidates: [],
      letters: 0,
    });
  });

  test("top limits the candidates, best first, with names", async () => {
    const { results } = await identify({ texts: ["Dit is een zin in het Nederlands, denk ik."], top: 5 });
    const [r] = results;
    expect(r!.candidates).toHaveLength(5);
    expect(r!.candidates[0]).toMatchObject({ language: "nld", name: "Dutch" });
    const confidences = r!.candidates.map((c) => c.confidence);
    expect([...confidences].sort((a, b) => b - a)).toEqual(confidences);
  });

  test("bad input is an InputError (HTTP 400) naming the problem", async () => {
    const cases: [unknown, string][] = [
      [{ texts: [] }, "texts must be a non-empty list of strings"],
      [{ texts: Array(LIMITS.maxTexts + 1).fill("a") }, "at most 100 texts per request (got 101)"],
      [{ texts: ["ok", 3] }, "texts[1] must be a string of at most 10000 characters"],
      [{ texts: ["ok"], top: 0 }, "top must be an integer from 1 to 10"],
    ];
    for (const [req, message] of cases) {
      const err = (await identify(req as never).catch((e) => e)) as Error & { status?: number };
      expect(err.name).toBe("InputError");
      expect(err.message).toBe(message);
    }
  });

  test("knows the 50 languages lande ships", () => {
    expect(Object.keys(LANGUAGE_NAMES)).toHaveLength(50);
  });
});

describe("02_ml_inference/03_language_id routes (local pool)", () => {
  test("the example loads its three routes", () => {
    expect(ex.app.errors).toEqual([]);
    const routes = ex.app.examples.flatMap((e) =>
      e.routers.flatMap((r) => r.routes.map((x) => `${x.method} ${x.path}`)),
    );
    expect(routes.sort()).toEqual([
      "GET /02_ml_inference/03_language_id/cpu/languages",
      "POST /02_ml_inference/03_language_id/cpu/detect",
      "POST /02_ml_inference/03_language_id/cpu/detect-batch",
    ]);
  });

  test("POST /detect runs on the CPU pool; the model loads once per worker", async () => {
    const first = await ex.post("/cpu/detect", { text: "Buongiorno a tutti, come state oggi?" });
    const second = await ex.post("/cpu/detect", { text: "Buongiorno a tutti, come state oggi?" });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ language: "ita", name: "Italian", reliable: true });
    expect(second.body.cold_start).toBe(false);
    const pool = await ex.pool("02_03_language_id_cpu");
    expect(pool).toMatchObject({ kind: "CpuLiveServerless", workersMax: 3, idleTimeout: 30 });
    expect(pool.calls).toBeGreaterThanOrEqual(2);
  });

  test("a batch of 100 is one remote call; 101 is a 422", async () => {
    const pool = await ex.pool("02_03_language_id_cpu");
    const before = pool?.calls ?? 0;
    const texts = Array.from(
      { length: 100 },
      (_, i) => `The weather is lovely today and we are going to the park, number ${i}.`,
    );
    const res = await ex.post("/cpu/detect-batch", { texts, top: 1 });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(100);
    expect(new Set(res.body.results.map((r: { language: string }) => r.language))).toEqual(new Set(["eng"]));
    expect((await ex.pool("02_03_language_id_cpu")).calls).toBe(before + 1);
    const tooMany = await ex.post("/cpu/detect-batch", { texts: [...texts, "one more"] });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.detail[0].loc).toEqual(["body", "texts"]);
  });

  test("a non-integer top is a 422 with the rule", async () => {
    const res = await ex.post("/cpu/detect", { text: "hello there my friend", top: 1.5 });
    expect(res.status).toBe(422);
    expect(res.body.detail[0]).toMatchObject({ loc: ["body", "top"], msg: "top must be a whole number from 1 to 10" });
  });

  test("an input error raised on the worker is a 400 RemoteError", async () => {
    const err = (await identifyLanguages({ texts: [] }).catch((e) => e)) as Error & { status?: number };
    expect(err.message).toBe("texts must be a non-empty list of strings");
    expect(err.status).toBe(400);
  });

  test("/docs/json shows request and response schemas", async () => {
    const doc = await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json();
    const detect = doc.paths["/02_ml_inference/03_language_id/cpu/detect"].post;
    expect(detect.requestBody.content["application/json"].schema.properties.text).toBeDefined();
    expect(detect.responses["200"].content["application/json"].schema.properties.reliable).toBeDefined();
  });
});
