import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import sharp from "sharp";
import { exampleHarness } from "../../test/helpers/example";
import { checkImage, MAX_IMAGE_BYTES } from "./image";
import { SAMPLE_PNG_BASE64 } from "./sample";
import { backendFromEnv, upscale } from "./upscale";

// Every model call goes through the routes to the example's pool: one worker loads the model once for the whole file.
const ex = exampleHarness(import.meta.dir);
// The first call starts a worker subprocess and loads TensorFlow.js and the model: seconds on a busy machine.
setDefaultTimeout(60_000);

const assets = join(import.meta.dir, "node_modules/@upscalerjs/default-model/assets");
const fixture = () => Bun.file(join(assets, "fixture.png")).bytes();
const rgb = async (png: Uint8Array) => sharp(png).removeAlpha().raw().toBuffer();

/** Peak signal-to-noise ratio of two same-sized 8-bit images, in dB (higher is closer). */
function psnr(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10(255 ** 2 / (sum / a.length));
}

async function upload(bytes: Uint8Array, name = "photo.png", type = "image/png"): Promise<Response> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(bytes)], { type }), name);
  return ex.app.fetch(
    new Request("http://localhost/02_ml_inference/04_image_upscaling/gpu/upscale/image", {
      method: "POST",
      body: form,
    }),
  );
}

describe("image checks (no image library)", () => {
  test("PNG and JPEG sizes are read from their headers", async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#336699" } })
      .png()
      .toBuffer();
    const jpeg = await sharp(png).jpeg().toBuffer();
    expect(checkImage(png)).toEqual({ format: "png", width: 40, height: 30 });
    expect(checkImage(jpeg)).toEqual({ format: "jpeg", width: 40, height: 30 });
  });

  test("too large, too small, too many bytes, not an image: each refused with the reason", async () => {
    const big = await sharp({ create: { width: 300, height: 20, channels: 3, background: "#000" } })
      .png()
      .toBuffer();
    const tiny = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } })
      .png()
      .toBuffer();
    expect(checkImage(big)).toBe("image is 300×20 pixels; at most 256×256 (scale it down first)");
    expect(checkImage(tiny)).toBe("image is 4×4 pixels; at least 8×8");
    expect(checkImage(new Uint8Array(MAX_IMAGE_BYTES + 1))).toBe(
      `image is ${MAX_IMAGE_BYTES + 1} bytes; at most 1048576`,
    );
    expect(checkImage(new TextEncoder().encode("%PDF-1.7"))).toBe("image is not a PNG or JPEG");
    expect(checkImage(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toBe(
      "image could not be read (a jpeg without a size)",
    );
  });
});

describe("POST /upscale and /upscale/image (ESRGAN on the example's pool)", () => {
  test("the example loads with its two routes", () => {
    expect(ex.app.errors).toEqual([]);
    expect(
      ex.app.examples.flatMap((e) => e.routers.flatMap((r) => r.routes.map((x) => `${x.method} ${x.path}`))),
    ).toEqual([
      "POST /02_ml_inference/04_image_upscaling/gpu/upscale",
      "POST /02_ml_inference/04_image_upscaling/gpu/upscale/image",
    ]);
  });

  test("the 128×128 fixture comes back 256×256, the same image UpscalerJS publishes as this model's output", async () => {
    const { status, body } = await ex.post("/gpu/upscale", {
      image_base64: Buffer.from(await fixture()).toString("base64"),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "success",
      input: { format: "png", width: 128, height: 128 },
      output: { format: "png", width: 256, height: 256 },
      scale: 2,
      backend: "wasm",
      cold_start: true,
    });
    const ours = Buffer.from(body.image_base64, "base64");
    expect(ours.length).toBe(body.output.bytes);
    const published = await Bun.file(join(assets, "samples/2x/result.png")).bytes();
    // Identical up to rounding (a pixel off by one here and there): far above any visible difference (~40 dB).
    expect(psnr(await rgb(ours), await rgb(published))).toBeGreaterThan(60);
  });

  test("upscaling a 2× downscale restores the photo better than Lanczos does (warm call, raw upload in, PNG out)", async () => {
    const original = await fixture();
    const small = await sharp(original).removeAlpha().resize(64, 64, { kernel: "lanczos3" }).png().toBuffer();
    const res = await upload(small);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-width")).toBe("128");
    const ours = new Uint8Array(await res.arrayBuffer());
    expect(await sharp(ours).metadata()).toMatchObject({ format: "png", width: 128, height: 128, channels: 3 });
    const lanczos = await sharp(small).resize(128, 128, { kernel: "lanczos3" }).png().toBuffer();
    const truth = await rgb(original);
    const model = psnr(await rgb(ours), truth);
    const classic = psnr(await rgb(lanczos), truth);
    // Measured: 26.4 dB against 25.8 dB. A broken model (noise, a shifted or blank image) falls far below Lanczos.
    expect(model).toBeGreaterThan(classic + 0.3);
    expect((await ex.pool("02_04_image_upscaling_gpu")).calls).toBe(2);
  });

  test("a JPEG in; a transparent PNG keeps its alpha channel, resized to match", async () => {
    const jpeg = await sharp(Buffer.from(SAMPLE_PNG_BASE64, "base64")).jpeg().toBuffer();
    const { body } = await ex.post("/gpu/upscale", {
      image_base64: `data:image/jpeg;base64,${jpeg.toString("base64")}`,
    });
    expect(body).toMatchObject({ input: { format: "jpeg", width: 64, height: 64 }, cold_start: false });
    const transparent = await sharp({ create: { width: 16, height: 16, channels: 4, background: "#ff000080" } })
      .png()
      .toBuffer();
    const res = await upload(transparent);
    const out = await sharp(new Uint8Array(await res.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(out.info).toMatchObject({ width: 32, height: 32, channels: 4 });
    expect(out.data[3]).toBe(128);
  });

  test("bad images are 422s naming the field, before any worker is asked", async () => {
    const calls = (await ex.pool("02_04_image_upscaling_gpu")).calls;
    const big = await sharp({ create: { width: 257, height: 64, channels: 3, background: "#000" } })
      .png()
      .toBuffer();
    const cases: [Response, string, string][] = [
      [
        await ex.request("POST", "/gpu/upscale", { image_base64: "not base64!" }),
        "image_base64",
        "image_base64 is not valid base64",
      ],
      [
        await ex.request("POST", "/gpu/upscale", { image_base64: "aGVsbG8gd29ybGQ=" }),
        "image_base64",
        "image is not a PNG or JPEG",
      ],
      [await upload(big), "file", "image is 257×64 pixels; at most 256×256 (scale it down first)"],
      [
        await upload(new TextEncoder().encode("hello"), "notes.txt", "text/plain"),
        "file",
        "image is not a PNG or JPEG",
      ],
    ];
    for (const [res, field, msg] of cases) {
      expect(res.status).toBe(422);
      const json = await res.json();
      expect(json.error).toBe("validation");
      expect(json.detail[0]).toMatchObject({ loc: ["body", field], msg });
    }
    const missing = await ex.request("POST", "/gpu/upscale", {});
    expect(missing.status).toBe(422);
    expect((await missing.json()).detail[0].loc).toEqual(["body", "image_base64"]);
    expect((await ex.pool("02_04_image_upscaling_gpu")).calls).toBe(calls);
  });

  test("an image whose header passes but whose data is cut off is a 400 from the worker", async () => {
    const truncated = Buffer.from(SAMPLE_PNG_BASE64, "base64").subarray(0, 200);
    const res = await ex.request("POST", "/gpu/upscale", { image_base64: truncated.toString("base64") });
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error).toBe("bad_request");
    expect(json.message).toStartWith("image could not be decoded: ");
  });

  test("the upload route refuses a raw body with 415 and JSON without a file with 422", async () => {
    const raw = await ex.request("POST", "/gpu/upscale/image", "raw bytes", "image/png");
    expect(raw.status).toBe(415);
    const json = await ex.request("POST", "/gpu/upscale/image", { image_base64: SAMPLE_PNG_BASE64 });
    expect(json.status).toBe(422);
    expect((await json.json()).detail[0].loc).toEqual(["body", "file"]);
  });

  test("the plain-JS fallback backend computes the same image as WebAssembly (in this process, on a 16×16 crop)", async () => {
    const crop = await sharp(await fixture())
      .removeAlpha()
      .extract({ left: 40, top: 40, width: 16, height: 16 })
      .png()
      .toBuffer();
    const viaPool = await ex.post("/gpu/upscale", { image_base64: crop.toString("base64") });
    expect(viaPool.body.backend).toBe("wasm");
    process.env.UPSCALE_BACKEND = "cpu";
    try {
      expect(backendFromEnv()).toBe("cpu");
      const local = await upscale({ image_base64: crop.toString("base64") });
      expect(local).toMatchObject({ backend: "cpu", cold_start: true, output: { width: 32, height: 32 } });
      const a = await rgb(Buffer.from(local.image_base64, "base64"));
      const b = await rgb(Buffer.from(viaPool.body.image_base64, "base64"));
      expect(psnr(a, b)).toBeGreaterThan(60);
    } finally {
      delete process.env.UPSCALE_BACKEND;
    }
    expect(backendFromEnv("gpu")).toBe("wasm"); // unknown values: the default, with a warning in the log
  });

  test("sample.ts (the /docs example, shipped with the module) is sample.png (the README's file)", async () => {
    const png = await Bun.file(join(import.meta.dir, "sample.png")).bytes();
    expect(SAMPLE_PNG_BASE64).toBe(Buffer.from(png).toString("base64"));
    const doc = await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json();
    const op = doc.paths["/02_ml_inference/04_image_upscaling/gpu/upscale/image"].post;
    expect(Object.keys(op.requestBody.content)).toEqual(["multipart/form-data"]);
    expect(Object.keys(op.responses[200].content)).toEqual(["image/png"]);
  });
});
