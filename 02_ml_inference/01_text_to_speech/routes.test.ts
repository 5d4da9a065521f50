import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { parseWav, rms } from "./test-helpers";
import { LANGUAGE_CHOICES, LANGUAGE_CODES, VOICE_NAMES } from "./voices";
import { generateSpeech } from "./cpu_worker";

const ex = exampleHarness(import.meta.dir);

// The first call starts a worker subprocess and loads the model: seconds on a busy machine.
setDefaultTimeout(60_000);

const post = (path: string, body: unknown) => ex.request("POST", `/cpu${path}`, body);

describe("02_ml_inference/01_text_to_speech routes", () => {
  test("the example loads with its three routes", () => {
    expect(ex.app.errors).toEqual([]);
    const routes = ex.app.examples.flatMap((e) =>
      e.routers.flatMap((r) => r.routes.map((x) => `${x.method} ${x.path}`)),
    );
    expect(routes.sort()).toEqual([
      "GET /02_ml_inference/01_text_to_speech/cpu/voices",
      "POST /02_ml_inference/01_text_to_speech/cpu/tts",
      "POST /02_ml_inference/01_text_to_speech/cpu/tts/audio",
    ]);
  });

  test("POST /tts returns a base64 WAV with its sample rate, duration, voice and language", async () => {
    const res = await post("/tts", { text: "Hello from flash.", voice: "f3", language: "en-gb", rate: 160 });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      status: "success",
      format: "wav",
      sample_rate: 22050,
      voice: "f3",
      language: "en-gb",
      rate: 160,
      pitch: 50,
      text: "Hello from flash.",
    });
    const wav = parseWav(new Uint8Array(Buffer.from(body.audio_base64, "base64")));
    expect(wav.sampleRate).toBe(22050);
    expect(wav.samples.length / 22050).toBeCloseTo(body.duration_seconds, 2);
    expect(rms(wav.samples)).toBeGreaterThan(300);
  });

  test("POST /tts applies the defaults: voice default, language auto, 175 wpm, pitch 50", async () => {
    const body = await (await post("/tts", { text: "Defaults are used for everything that is not named." })).json();
    expect(body).toMatchObject({ voice: "default", language: "en-us", rate: 175, pitch: 50 });
    expect(body.language_detection).toMatchObject({ detected: "eng", used: "en-us", note: null });
    expect(body.language_detection.confidence).toBeGreaterThan(0.7);
  });

  test('language "auto" speaks German text with the German voice; a named language skips detection', async () => {
    const text = "Guten Morgen, wie geht es Ihnen heute? Das Wetter ist schön.";
    const auto = await (await post("/tts", { text })).json();
    expect(auto.language).toBe("de");
    expect(auto.language_detection).toMatchObject({ detected: "deu", used: "de", note: null });
    const named = await (await post("/tts", { text, language: "de" })).json();
    expect(named).toMatchObject({ language: "de", language_detection: null });
    const english = await (await post("/tts", { text, language: "en-us" })).json();
    expect(english.duration_seconds).not.toBe(auto.duration_seconds); // another language's rules
  });

  test('language "auto" falls back to en-us, saying why, for short text and for a language eSpeak lacks', async () => {
    const short = await (await post("/tts", { text: "ok" })).json();
    expect(short.language_detection).toEqual({
      detected: "und",
      confidence: 0,
      used: "en-us",
      note: "too short to detect (< 12 letters): used en-us",
    });
    const tagalog = await (
      await post("/tts", { text: "Magandang umaga po sa inyong lahat, kumusta kayo ngayong araw?" })
    ).json();
    expect(tagalog.language).toBe("en-us");
    expect(tagalog.language_detection).toMatchObject({ detected: "tgl", used: "en-us" });
    expect(tagalog.language_detection.note).toBe("eSpeak NG has no tgl voice: used en-us");
  });

  test("POST /tts/audio returns the WAV bytes as audio/wav, as an attachment", async () => {
    const res = await post("/tts/audio", { text: "Hello from flash." });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect(res.headers.get("content-disposition")).toBe("attachment; filename=speech.wav");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const wav = parseWav(bytes);
    expect(res.headers.get("x-sample-rate")).toBe("22050");
    expect(Number(res.headers.get("x-duration-seconds"))).toBeCloseTo(wav.samples.length / 22050, 2);
  });

  test("GET /voices lists every voice and language with the defaults", async () => {
    const res = await ex.request("GET", "/cpu/voices");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.voices.map((v: { name: string }) => v.name)).toEqual(VOICE_NAMES);
    expect(body.languages.length).toBe(LANGUAGE_CODES.length);
    expect(body.languages).toContainEqual({ code: "en-us", name: "English (America)" });
    expect(body.languages).toContainEqual({ code: "fr-fr", name: "French (France)" });
    expect(body.defaults).toEqual({ voice: "default", language: "auto", rate: 175, pitch: 50 });
  });

  test("an unknown voice is a 422 that lists the valid voices", async () => {
    for (const path of ["/tts", "/tts/audio"]) {
      const res = await post(path, { text: "hi", voice: "Ryan" });
      expect(res.status).toBe(422);
      const body = await res.json();
      expect(body.error).toBe("validation");
      expect(body.detail).toHaveLength(1);
      expect(body.detail[0]).toMatchObject({
        loc: ["body", "voice"],
        msg: `Unknown voice. Valid voices: ${VOICE_NAMES.join(", ")}`,
        input: "Ryan",
      });
      expect(body.message).toContain("body.voice: Unknown voice. Valid voices: default, m1");
    }
  });

  test("an unknown language is a 422 that lists the valid languages", async () => {
    const res = await post("/tts", { text: "hi", language: "Auto" });
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.detail[0].loc).toEqual(["body", "language"]);
    expect(body.detail[0].msg).toBe(`Unknown language. Valid languages: ${LANGUAGE_CHOICES.join(", ")}`);
  });

  test("missing or blank text, rate and pitch out of range are 422s naming the field", async () => {
    const cases: [unknown, string][] = [
      [{}, "text"],
      [{ text: "  \n " }, "text"],
      [{ text: "x".repeat(5001) }, "text"],
      [{ text: "hi", rate: 20 }, "rate"],
      [{ text: "hi", rate: 150.5 }, "rate"],
      [{ text: "hi", pitch: 100 }, "pitch"],
    ];
    for (const [body, field] of cases) {
      const res = await post("/tts", body);
      expect({ field, status: res.status }).toEqual({ field, status: 422 });
      const json = await res.json();
      expect(json.detail[0].loc).toEqual(["body", field]);
    }
  });

  test("speech is made on the example's CPU pool: one worker thread, loaded once, reused", async () => {
    const first = await (await post("/tts", { text: "First call." })).json();
    const second = await (await post("/tts", { text: "Second call." })).json();
    expect(second.cold_start).toBe(false); // the worker kept its engine
    expect(typeof first.synthesis_ms).toBe("number");
    const pool = ex.target.status().pools.find((p) => p.name === "02_01_text_to_speech_cpu");
    expect(pool).toMatchObject({
      kind: "CpuLiveServerless",
      workerKind: "process", // every config runs on worker processes locally (isolate: false would give threads)
      workersMin: 0,
      workersMax: 3,
      idleTimeout: 30,
    });
    expect(pool!.calls).toBeGreaterThanOrEqual(2);
    expect(pool!.workers.total).toBeGreaterThanOrEqual(1);
    const health = await (await ex.app.fetch(new Request("http://localhost/health"))).json();
    expect(health.local.pools.map((p: { name: string }) => p.name)).toContain("02_01_text_to_speech_cpu");
  });

  test("an input error raised on the worker reaches the caller as a 400-status RemoteError", async () => {
    const err = await generateSpeech({ text: "hi", voice: "Ryan" }).then(
      () => null,
      (e: Error & { remoteName?: string; status?: number }) => e,
    );
    expect(err?.name).toBe("RemoteError");
    expect(err?.remoteName).toBe("InputError");
    expect(err?.status).toBe(400);
    expect(err?.message).toBe(`Unknown voice 'Ryan'. Valid voices: ${VOICE_NAMES.join(", ")}`);
  });

  test("a body that is not JSON is a 400", async () => {
    const res = await post("/tts", "{not json");
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("bad_request");
  });

  test("/docs/json documents the routes with request examples", async () => {
    const doc = await (await ex.app.fetch(new Request("http://localhost/docs/json"))).json();
    const tts = doc.paths["/02_ml_inference/01_text_to_speech/cpu/tts"].post;
    expect(tts.tags).toEqual(["02 Ml Inference > 01 Text To Speech"]);
    const schema = tts.requestBody.content["application/json"].schema;
    expect(schema.examples[0]).toEqual({
      text: "Hello from flash. This sentence was spoken by eSpeak NG.",
      voice: "f3",
      language: "en-us",
    });
    expect(schema.properties.voice.enum ?? schema.properties.voice.anyOf).toBeDefined();
    expect(
      doc.paths["/02_ml_inference/01_text_to_speech/cpu/tts/audio"].post.responses["200"].content["audio/wav"],
    ).toBeDefined();
    expect(doc.paths["/02_ml_inference/01_text_to_speech/cpu/voices"].get.summary).toBe("List voices and languages");
  });
});
