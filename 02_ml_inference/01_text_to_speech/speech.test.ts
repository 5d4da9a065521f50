import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadEngine, renderSamples, synthesize } from "./speech";
import { medianPitchHz, parseWav, rms } from "./test-helpers";
import { LANGUAGE_CODES, VOICES, VOICE_NAMES } from "./voices";

// The first test loads the model (and one spawns a fresh process): seconds on a busy machine.
setDefaultTimeout(30_000);

const wavOf = (b64: string) => parseWav(new Uint8Array(Buffer.from(b64, "base64")));

describe("the voice catalogue matches eSpeak NG's data", () => {
  test("every language code is a voice eSpeak NG lists and can select", async () => {
    const engine = await loadEngine();
    const listed = new Set(engine.worker.list_voices().map((v) => v.languages[0]!.name));
    expect(new Set<string>(LANGUAGE_CODES)).toEqual(listed);
    for (const code of LANGUAGE_CODES) {
      const id = engine.identifiers.get(code);
      expect({ code, result: engine.worker.set_voice(`${id}+f3`) }).toEqual({ code, result: 0 });
    }
  });

  test("every voice variant exists in the engine's data", async () => {
    const engine = await loadEngine();
    for (const v of VOICES) if (v.variant) expect(engine.variants).toContain(v.variant);
    expect(engine.sampleRate).toBe(22050);
  });
});

describe("synthesize", () => {
  test("returns a 16-bit mono WAV at 22.05 kHz whose length matches duration_seconds", async () => {
    const r = await synthesize({ text: "Hello from flash. This is a test." });
    expect(r).toMatchObject({
      status: "success",
      format: "wav",
      sample_rate: 22050,
      voice: "default",
      language: "en-us",
      rate: 175,
      pitch: 50,
      engine: "espeak-ng",
      text: "Hello from flash. This is a test.",
    });
    const wav = wavOf(r.audio_base64);
    expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 22050, bitsPerSample: 16 });
    expect(wav.samples.length / 22050).toBeCloseTo(r.duration_seconds, 2);
    expect(r.duration_seconds).toBeGreaterThan(1);
    expect(r.duration_seconds).toBeLessThan(5);
    expect(rms(wav.samples)).toBeGreaterThan(300); // speech, not silence
    expect(Number.isNaN(Date.parse(r.timestamp))).toBe(false);
  });

  test("the engine loads once per worker: only the first call in a fresh process is a cold start", async () => {
    const script = `const { synthesize } = await import(${JSON.stringify(`${import.meta.dir}/speech.ts`)});
      const flags = [];
      for (const text of ["One.", "Two.", "Three."]) flags.push((await synthesize({ text })).cold_start);
      process.stdout.write("\\nFLAGS=" + JSON.stringify(flags) + "\\n");`;
    const proc = Bun.spawnSync([process.execPath, "-e", script], {
      cwd: import.meta.dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(proc.exitCode).toBe(0);
    const flags = /^FLAGS=(.*)$/m.exec(proc.stdout.toString())?.[1];
    expect(JSON.parse(flags ?? "null")).toEqual([true, false, false]);
    expect(await loadEngine()).toBe(await loadEngine());
  });

  test("rate changes the duration: 350 wpm is much shorter than 100 wpm", async () => {
    const text = "The quick brown fox jumps over the lazy dog.";
    const slow = await synthesize({ text, rate: 100 });
    const fast = await synthesize({ text, rate: 350 });
    expect(slow.duration_seconds).toBeGreaterThan(fast.duration_seconds * 2);
  });

  test("pitch and voice change the sound: high pitch has a higher fundamental, female differs from male", async () => {
    const engine = await loadEngine();
    const text = "Aaah, ooh, eeh.";
    const mid = medianPitchHz(renderSamples(engine, text, "gmw/en-US", 175, 50), engine.sampleRate);
    const high = medianPitchHz(renderSamples(engine, text, "gmw/en-US", 175, 95), engine.sampleRate);
    expect(high).toBeGreaterThan(mid * 1.3);
    const male = medianPitchHz(renderSamples(engine, text, "gmw/en-US+m1", 175, 50), engine.sampleRate);
    const female = medianPitchHz(renderSamples(engine, text, "gmw/en-US+f3", 175, 50), engine.sampleRate);
    expect(female).toBeGreaterThan(male * 1.5);
  });

  test("other languages speak", async () => {
    for (const language of ["de", "fr-fr", "en-gb", "es", "ja"]) {
      const r = await synthesize({
        text: language === "ja" ? "こんにちは" : "Guten Tag, bonjour, hola.",
        language,
        voice: "f2",
      });
      expect(r.language).toBe(language);
      expect(rms(wavOf(r.audio_base64).samples)).toBeGreaterThan(300);
    }
  });

  test("bad input is an InputError (HTTP 400) that says what is wrong", async () => {
    const cases: [Parameters<typeof synthesize>[0], RegExp][] = [
      [{ text: "   " }, /text must not be empty/],
      [{ text: "x".repeat(5001) }, /too long \(5001 characters; at most 5000\)/],
      [{ text: "hi", voice: "Ryan" }, new RegExp(`Unknown voice 'Ryan'. Valid voices: ${VOICE_NAMES.join(", ")}`)],
      [
        { text: "hi", language: "Auto" },
        /^Unknown language 'Auto'. Valid languages: auto, af, am, an, .*, en-us, .*, yue$/,
      ],
      [{ text: "hi", rate: 20 }, /rate must be an integer from 80 to 450/],
      [{ text: "hi", pitch: 1.5 }, /pitch must be an integer from 0 to 99/],
    ];
    for (const [req, message] of cases) {
      const err = await synthesize(req).then(
        () => null,
        (e: unknown) => e as Error & { status: number },
      );
      expect(err?.name).toBe("InputError");
      expect(err?.status).toBe(400);
      expect(err?.message).toMatch(message);
    }
  });
});
