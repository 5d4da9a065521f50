import { expect } from "bun:test";
import { join } from "node:path";
import { readmeSuite } from "../../test/helpers/readme";
import { parseWav } from "./test-helpers";

// Every curl in the README, on the local pool and on the Runpod emulator. The one without a JSON reply writes
// speech.wav: it must be the WAV the README describes.
await readmeSuite(import.meta.dir, {
  minExamples: 4,
  timeoutMs: 120_000,
  async check(request, result, cwd) {
    expect(request.command).toContain("--output speech.wav");
    expect(result.stderr).toBe("");
    const wav = parseWav(new Uint8Array(await Bun.file(join(cwd, "speech.wav")).arrayBuffer()));
    expect(wav).toMatchObject({ format: 1, channels: 1, sampleRate: 22050, bitsPerSample: 16 });
    const seconds = wav.samples.length / wav.sampleRate;
    expect(seconds).toBeGreaterThan(3.2); // "about 3.5 seconds long"
    expect(seconds).toBeLessThan(3.9);
  },
});
