/** Test helpers: read a WAV file's header and samples by hand (independently of the encoder), and measure them. */

/** The fields of a PCM WAV file that the tests check. */
export interface ParsedWav {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  samples: Int16Array;
}

/** Parse a RIFF/WAVE file with a `fmt ` and a `data` chunk; throws on anything else. */
export function parseWav(bytes: Uint8Array): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  if (view.getUint32(4, true) !== bytes.length - 8) throw new Error("RIFF size does not match the file size");
  let at = 12;
  let fmt: Omit<ParsedWav, "samples"> | undefined;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      fmt = {
        format: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) throw new Error("data chunk before fmt chunk");
      if (body + size > bytes.length) throw new Error("data chunk runs past the end of the file");
      const copy = bytes.slice(body, body + size);
      return { ...fmt, samples: new Int16Array(copy.buffer, 0, Math.floor(size / 2)) };
    }
    at = body + size + (size % 2);
  }
  throw new Error("no data chunk");
}

/** Root-mean-square amplitude of 16-bit samples. */
export function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/**
 * Median fundamental frequency (Hz) over the loud frames, by autocorrelation in the 60–500 Hz range.
 * Rough, but enough to tell a low voice from a high one.
 */
export function medianPitchHz(samples: Int16Array, sampleRate: number): number {
  const frame = Math.round(sampleRate * 0.04);
  const minLag = Math.floor(sampleRate / 500);
  const maxLag = Math.ceil(sampleRate / 60);
  const loud = rms(samples) * 0.8;
  const pitches: number[] = [];
  for (let start = 0; start + frame + maxLag < samples.length; start += frame) {
    const window = samples.subarray(start, start + frame);
    if (rms(window) < loud) continue;
    let best = 0;
    let bestLag = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let acc = 0;
      for (let i = 0; i < frame; i++) acc += samples[start + i]! * samples[start + i + lag]!;
      if (acc > best) {
        best = acc;
        bestLag = lag;
      }
    }
    if (bestLag) pitches.push(sampleRate / bestLag);
  }
  pitches.sort((a, b) => a - b);
  return pitches[Math.floor(pitches.length / 2)] ?? 0;
}
