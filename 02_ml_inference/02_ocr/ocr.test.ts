import { describe, expect, setDefaultTimeout, test } from "bun:test";
import sharp from "sharp";
import { gpuInfo } from "flash";
import { createRecognizer, decodeImage, missingCudaProvider, providerChoiceFromEnv, recognize, MAX_SIDE } from "./ocr";
import { textJpeg, textPng } from "./test-images";

// The first test loads the model: seconds on a busy machine.
setDefaultTimeout(30_000);

const b64 = (buf: Buffer) => buf.toString("base64");
/** The provider a worker on this machine should pick: CUDA only where a GPU and the CUDA provider library both exist. */
const expectedProvider = gpuInfo().available && missingCudaProvider() === null ? "cuda" : "cpu";

async function fail(p: Promise<unknown>): Promise<Error & { status?: number }> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e) => e,
  );
}

describe("recognize", () => {
  test("reads the words of a rendered PNG, top to bottom, with boxes around them", async () => {
    const png = await textPng(620, 170, [
      { text: "Hello from flash", x: 30, y: 60 },
      { text: "Invoice 12345", x: 30, y: 130 },
    ]);
    const r = await recognize({ image_base64: b64(png) });
    expect(r.status).toBe("success");
    expect(r.lines.map((l) => l.text)).toEqual(["Hello from flash", "Invoice 12345"]);
    expect(r.text).toBe("Hello from flash\nInvoice 12345");
    expect(r.image).toEqual({ format: "png", width: 620, height: 170 });
    expect(r.execution_provider).toBe(expectedProvider);
    for (const line of r.lines) {
      expect(line.confidence).toBeGreaterThan(0.8);
      expect(line.confidence).toBeLessThanOrEqual(1);
      expect(line.box).toHaveLength(4);
    }
    // The first line's text starts at x=30 with its baseline at y=60 (32 px font): the box must surround it.
    const [[x0, y0], , [x2, y2]] = r.lines[0]!.box as [number, number][];
    expect(x0).toBeGreaterThanOrEqual(20);
    expect(x0).toBeLessThanOrEqual(36);
    expect(y0).toBeGreaterThanOrEqual(25);
    expect(y0).toBeLessThanOrEqual(40);
    expect(y2).toBeGreaterThanOrEqual(58);
    expect(y2).toBeLessThanOrEqual(72);
    expect(x2).toBeGreaterThan(250);
    expect(r.lines[1]!.box[0]![1]).toBeGreaterThan(y2);
  });

  test("reads a JPEG, and a data URL", async () => {
    const jpg = await textJpeg(400, 90, [{ text: "Order 4217", x: 20, y: 60, size: 36 }]);
    const r = await recognize({ image_base64: `data:image/jpeg;base64,${b64(jpg)}` });
    expect(r.image.format).toBe("jpeg");
    expect(r.text).toBe("Order 4217");
  });

  test("light text on a dark background", async () => {
    const png = await textPng(420, 90, [{ text: "Night mode 42", x: 20, y: 60 }], {
      background: "#1e1e1e",
      color: "#f0f0f0",
    });
    expect((await recognize({ image_base64: b64(png) })).text).toBe("Night mode 42");
  });

  test("a large image is scaled down for the model and its boxes are scaled back to image pixels", async () => {
    const width = 3200;
    // Short, so the detector's work stays small: only the width is past MAX_SIDE.
    const png = await textPng(width, 112, [{ text: "Far right words", x: 2300, y: 84, size: 64 }]);
    const r = await recognize({ image_base64: b64(png) });
    expect(width).toBeGreaterThan(MAX_SIDE);
    expect(r.image).toEqual({ format: "png", width: 3200, height: 112 });
    expect(r.text).toBe("Far right words");
    const xs = r.lines[0]!.box.map(([x]) => x);
    expect(Math.min(...xs)).toBeGreaterThan(2250);
    expect(Math.min(...xs)).toBeLessThan(2350);
    expect(Math.max(...xs)).toBeLessThanOrEqual(width);
  });

  test("an EXIF-rotated photo is read upright and reported with its upright size", async () => {
    const upright = await textPng(360, 100, [{ text: "Rotated 90", x: 20, y: 64, size: 40 }]);
    // Store the pixels turned 90° counter-clockwise with EXIF orientation 6 ("rotate 90° clockwise to view").
    const stored = await sharp(upright).rotate(-90).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer();
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([100, 360, 6]);
    const r = await recognize({ image_base64: b64(stored) });
    expect(r.image).toEqual({ format: "jpeg", width: 360, height: 100 });
    expect(r.text).toBe("Rotated 90");
  });

  test("an image without text gives no lines", async () => {
    const blank = await sharp({ create: { width: 200, height: 120, channels: 3, background: "white" } })
      .png()
      .toBuffer();
    const r = await recognize({ image_base64: b64(blank) });
    expect(r.lines).toEqual([]);
    expect(r.text).toBe("");
  });

  test("bad images are InputErrors (HTTP 400) that say why", async () => {
    const png = await textPng(100, 40, [{ text: "x", x: 5, y: 30 }]);
    const tiny = await sharp({ create: { width: 4, height: 4, channels: 3, background: "white" } })
      .png()
      .toBuffer();
    const cases: [string, RegExp][] = [
      ["", /image_base64 must not be empty/],
      ["%%% not base64 %%%", /not valid base64/],
      [Buffer.from("GIF89a just a gif header").toString("base64"), /not a PNG or JPEG image/],
      [b64(png.subarray(0, 60)), /could not be decoded/],
      [b64(tiny), /too small \(4×4; at least 8×8\)/],
    ];
    for (const [image_base64, message] of cases) {
      const err = await fail(recognize({ image_base64 }));
      expect({ name: err.name, status: err.status }).toEqual({ name: "InputError", status: 400 });
      expect(err.message).toMatch(message);
    }
  });
});

describe("decodeImage", () => {
  test("accepts base64 with line breaks and a data URL prefix, and tells PNG from JPEG", async () => {
    const png = await textPng(40, 40, []);
    const wrapped = b64(png).replace(/(.{76})/g, "$1\n");
    expect(decodeImage(wrapped).format).toBe("png");
    expect(decodeImage(`data:image/png;base64,${b64(png)}`).bytes.equals(png)).toBe(true);
    expect(decodeImage(b64(await textJpeg(40, 40, []))).format).toBe("jpeg");
  });
});

describe("execution provider", () => {
  test("OCR_EXECUTION_PROVIDER is read as auto, cuda or cpu (anything else is auto)", () => {
    expect(providerChoiceFromEnv(undefined)).toBe("auto");
    expect(providerChoiceFromEnv(" CUDA ")).toBe("cuda");
    expect(providerChoiceFromEnv("cpu")).toBe("cpu");
    expect(providerChoiceFromEnv("tpu")).toBe("auto");
  });

  test("auto picks CUDA only with a GPU; with no GPU it runs on the CPU without a fallback note", async () => {
    const r = await createRecognizer("auto");
    expect(r.provider).toBe(expectedProvider);
    if (!gpuInfo().available) expect(r.note).toBeNull();
  });

  test.skipIf(missingCudaProvider() === null)(
    "asking for CUDA where its provider library is not installed falls back to the CPU and says why",
    async () => {
      expect(missingCudaProvider()).toMatch(/libonnxruntime_providers_cuda\.so is missing/);
      const r = await createRecognizer("cuda");
      expect(r.provider).toBe("cpu");
      expect(r.note).toMatch(/^CUDA execution provider not installed/);
    },
  );

  test.skipIf(missingCudaProvider() === null)(
    "a CUDA load that fails inside onnxruntime falls back to the CPU, and the CPU models still read text",
    async () => {
      const r = await createRecognizer("cuda", { checkLibrary: false });
      expect(r.provider).toBe("cpu");
      expect(r.note).toMatch(/^CUDA execution provider unavailable \(.*\); running on CPU$/);
      const png = await textPng(300, 80, [{ text: "fallback ok", x: 20, y: 55 }]);
      const lines = await r.ocr.detect(png);
      expect(lines.map((l: { text: string }) => l.text)).toEqual(["fallback ok"]);
    },
  );
});
