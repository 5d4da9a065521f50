import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { textPng } from "../../02_ml_inference/02_ocr/test-images";
import { exampleHarness } from "../../test/helpers/example";
import { amountsIn, datesIn, extractFields } from "./extract";
import { MAX_UPLOAD_BYTES } from "./main";

const ex = exampleHarness(import.meta.dir);
// OCR on a loaded machine, and the first call loads the models.
setDefaultTimeout(180_000);

async function upload(file: Blob, name: string): Promise<Response> {
  const form = new FormData();
  form.append("file", file, name);
  return ex.app.fetch(
    new Request("http://localhost/05_data_workflows/02_document_ocr/documents", { method: "POST", body: form }),
  );
}

describe("extraction rules (the CPU stage)", () => {
  test("the total comes from the total line, not the subtotal; tax and subtotal are found too", () => {
    const r = extractFields("Subtotal 40.00\nVAT 8.00\nTotal 48.00\nCard 48.00");
    expect(r.total).toEqual({ value: 48, currency: null, line: "Total 48.00" });
    expect(r.total_source).toBe("total line");
    expect(r.subtotal?.value).toBe(40);
    expect(r.tax?.value).toBe(8);
  });

  test("without a total line, the largest amount (and it says so); without amounts, null", () => {
    expect(extractFields("Coffee 3.50\nCake 4.25")).toMatchObject({
      total: { value: 4.25 },
      total_source: "largest amount",
    });
    expect(extractFields("no money here")).toMatchObject({ total: null, total_source: null, amounts: [] });
  });

  test("amounts: thousands separators, decimal commas, currency signs and codes; OCR's missing spaces", () => {
    expect(amountsIn("TOTAL$1,234.56").map((a) => [a.value, a.currency])).toEqual([[1234.56, "USD"]]);
    expect(amountsIn("Betrag 1.234,56 EUR").map((a) => [a.value, a.currency])).toEqual([[1234.56, "EUR"]]);
    expect(amountsIn("£7.10 and ¥300.00").map((a) => a.currency)).toEqual(["GBP", "JPY"]);
    expect(amountsIn("2 x 14 items, code 12345")).toEqual([]);
  });

  test("dates: ISO, day-first, month-first, month names; ambiguous or impossible dates get iso null", () => {
    const iso = (line: string) => datesIn(line).map((d) => d.iso);
    expect(iso("Date: 2026-11-28")).toEqual(["2026-11-28"]);
    expect(iso("28.11.2026 and 11/28/2026")).toEqual(["2026-11-28", "2026-11-28"]);
    expect(iso("Issued 5 Dec 2026, due Jan 4, 2027")).toEqual(["2026-12-05", "2027-01-04"]);
    expect(iso("05/06/2026")).toEqual([null]);
    expect(iso("2026-02-30")).toEqual([null]);
  });
});

describe("POST /documents (the pipeline on the local pool)", () => {
  test("a rendered invoice: OCR on the GPU config, then total, tax and dates on the CPU config", async () => {
    const png = await textPng(700, 300, [
      { text: "INVOICE 2041", x: 30, y: 55, size: 30 },
      { text: "Issued 05 Dec 2026", x: 30, y: 110, size: 26 },
      { text: "Subtotal 40.00", x: 30, y: 160, size: 26 },
      { text: "VAT 8.00", x: 30, y: 205, size: 26 },
      { text: "Total 48.00", x: 30, y: 260, size: 30 },
    ]);
    const res = await upload(new Blob([new Uint8Array(png)], { type: "image/png" }), "invoice.png");
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.file).toEqual({ name: "invoice.png", type: "image/png", bytes: png.length });
    expect(body.total).toMatchObject({ value: 48, line: "Total 48.00" });
    expect(body.subtotal?.value).toBe(40);
    expect(body.tax?.value).toBe(8);
    expect(body.dates.map((d: { iso: string }) => d.iso)).toEqual(["2026-12-05"]);
    expect(["cpu", "cuda"]).toContain(body.ocr.execution_provider);
    expect((await ex.pool("05_02_document_ocr_gpu")).calls).toBeGreaterThanOrEqual(1);
    expect((await ex.pool("05_02_document_ocr_cpu")).calls).toBeGreaterThanOrEqual(1);
  });

  test("limits and clear errors: no file, too large, not an image, JSON instead of a file", async () => {
    const none = await ex.app.fetch(
      new Request("http://localhost/05_data_workflows/02_document_ocr/documents", {
        method: "POST",
        body: new FormData(),
      }),
    );
    expect(none.status).toBe(422);
    const big = await upload(new Blob([new Uint8Array(MAX_UPLOAD_BYTES + 1)], { type: "image/png" }), "big.png");
    expect(big.status).toBe(422);
    expect(((await big.json()) as any).detail[0].loc).toEqual(["body", "file"]);
    const text = await upload(new Blob(["hello"], { type: "image/png" }), "fake.png");
    expect(text.status).toBe(422);
    expect(((await text.json()) as any).detail[0].msg).toBe("file must be a PNG or JPEG image (fake.png is not one)");
    const json = await ex.post("/documents", { file: "x" });
    expect(json.status).toBe(422);
    expect(json.body.detail[0].msg).toBe('file must be a PNG or JPEG image of at most 5 MB (multipart field "file")');
  });

  test("a PNG header with nothing decodable behind it is a 400 from the OCR stage", async () => {
    const broken = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
    const res = await upload(new Blob([broken], { type: "image/png" }), "broken.png");
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).message).toStartWith("image could not be decoded");
  });
});
