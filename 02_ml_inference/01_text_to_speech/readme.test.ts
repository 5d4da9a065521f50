import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curlExamples, differences, runExample, startFlashRun, type FlashServer } from "../readme-curl";
import { parseWav } from "./test-helpers";

// A real `flash run` server: its first request starts a worker subprocess and loads the engine.
setDefaultTimeout(60_000);

const examples = curlExamples(await Bun.file(join(import.meta.dir, "README.md")).text());
let server: FlashServer;
let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "flash-tts-readme-"));
  server = await startFlashRun(import.meta.dir);
});

afterAll(async () => {
  await server?.stop();
  await rm(cwd, { recursive: true, force: true });
});

describe("README curl examples, run with curl against flash run", () => {
  test("the README has the documented examples", () => {
    expect(examples.length).toBe(4);
    expect(examples.filter((e) => e.expected !== undefined).length).toBe(3);
  });

  test("POST /tts/audio --output speech.wav writes the WAV the README describes", async () => {
    const example = examples.find((e) => e.command.includes("/tts/audio"))!;
    const { code, stderr } = await runExample(example.command, server.port, cwd);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const wav = parseWav(new Uint8Array(await Bun.file(join(cwd, "speech.wav")).arrayBuffer()));
    expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 22050, bitsPerSample: 16 });
    const seconds = wav.samples.length / wav.sampleRate;
    expect(seconds).toBeGreaterThan(3.2); // "about 3.5 seconds long"
    expect(seconds).toBeLessThan(3.9);
  });

  for (const [i, example] of examples.entries()) {
    if (example.expected === undefined) continue;
    test(`example ${i + 1} returns what the README shows: ${example.command.split("\n")[0]}`, async () => {
      const { code, stdout } = await runExample(example.command, server.port, cwd);
      expect(code).toBe(0);
      expect(differences(JSON.parse(stdout), example.expected)).toEqual([]);
    });
  }
});
