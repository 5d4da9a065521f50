import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { SAMPLE_PNG_BASE64 } from "./sample";
import { textPng } from "./test-images";

const ex = exampleHarness(import.meta.dir);

// The first call starts a worker subprocess and loads the model: seconds on a busy machine.
setDefaultTimeout(60_000);

const post = (body: unknown) => ex.request("POST", "/gpu/ocr", body);

describe("02_ml_inference/02_ocr routes", () => {
  test("the example loads with POST /ocr", () => {
    expect(ex.app.errors).toEqual([]);
    expect(
      ex.app.examples.flatMap((e) => e.routers.flatMap((r) => r.routes.map((x) => `${x.method} ${x.path}`))),
    ).toEqual(["POST /02_ml_inference/02_ocr/gpu/ocr"]);
  });

  test("POST /ocr reads a rendered image: lines with text, box, confidence, and the provider that ran", async () => {
    const png = await textPng(520, 160, [
      { text: "Total 99.50", x: 24, y: 60 },
      { text: "Thank you", x: 24, y: 125 },
    ]);
    const res = await post({ image_base64: png.toString("base64") });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe("success");
    expect(body.lines.map((l: { text: string }) => l.text)).toEqual(["Total 99.50", "Thank you"]);
    expect(body.text).toBe("Total 99.50\nThank you");
    expect(["cpu", "cuda"]).toContain(body.execution_provider);
    expect(body.image).toEqual({ format: "png", width: 520, height: 160 });
    for (const line of body.lines) {
      expect(line.box).toHaveLength(4);
      expect(line.confidence).toBeGreaterThan(0.8);
    }
    expect(typeof body.ocr_ms).toBe("number");
  });

  test("sample.ts (the /docs example, shipped with the module) is sample.png (the README's file)", async () => {
    const png = await Bun.file(`${import.meta.dir}/sample.png`).bytes();
    expect(SAMPLE_PNG_BASE64).toBe(Buffer.from(png).toString("base64"));
  });

  test("the sample image of /docs and the README reads 'Hello from flash' / 'Order 4217'", async () => {
    const sample = await Bun.file(`${import.meta.dir}/sample.png`).bytes();
    const body = await (await post({ image_base64: Buffer.from(sample).toString("base64") })).json();
    expect(body.text).toBe("Hello from flash\nOrder 4217");
  });

  test("OCR runs on the example's GPU pool and keeps its models loaded between calls", async () => {
    const png = await textPng(300, 80, [{ text: "warm call", x: 20, y: 55 }]);
    const body = await (await post({ image_base64: png.toString("base64") })).json();
    expect(body.text).toBe("warm call");
    expect(body.cold_start).toBe(false);
    const pool = ex.target.status().pools.find((p) => p.name === "02_02_ocr_gpu");
    expect(pool).toMatchObject({ kind: "LiveServerless", workerKind: "process", workersMax: 2, idleTimeout: 30 });
    expect(pool!.calls).toBeGreaterThanOrEqual(2);
  });

  test("a missing or empty image_base64 is a 422 naming the field", async () => {
    for (const body of [{}, { image_base64: "" }, { image_base64: 42 }]) {
      const res = await post(body);
      expect(res.status).toBe(422);
      const json = await res.json();
      expect(json.error).toBe("validation");
      expect(json.detail[0].loc).toEqual(["body", "image_base64"]);
      expect(json.detail[0].msg).toMatch(/^image_base64 must be a non-empty base64 string/);
    }
  });

  test("base64 that is not a PNG or JPEG is a 400 that says so", async () => {
    const res = await post({ image_base64: Buffer.from("%PDF-1.7 not an image").toString("base64") });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "bad_request", message: "image_base64 is not a PNG or JPEG image" });
  });

  test("/docs/json documents POST /ocr with a request example that is a real image", async () => {
    const doc = await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json();
    const op = doc.paths["/02_ml_inference/02_ocr/gpu/ocr"].post;
    expect(op.tags).toEqual(["02 Ml Inference > 02 Ocr"]);
    const example = op.requestBody.content["application/json"].schema.examples[0];
    expect(Buffer.from(example.image_base64, "base64").subarray(1, 4).toString()).toBe("PNG");
  });
});
