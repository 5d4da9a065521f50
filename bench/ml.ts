/**
 * Latency of the two ML examples on this machine's CPU:
 *   - TTS (02_ml_inference/01_text_to_speech): milliseconds per sentence, cold (engine load + first sentence) and warm;
 *   - OCR (02_ml_inference/02_ocr): milliseconds per image, cold (model load + first image) and warm.
 * Each is measured twice: calling the engine in this process, and through the unified app and the local worker
 * pool (HTTP route → remote() → pool worker), the way `flash run` serves it.
 *
 *   bun bench/ml.ts [--tts] [--ocr] [--n 20] [--no-pool]
 *
 * BENCH_N sets the default of --n (the README tests run each README's bench command with BENCH_N=1: every path once).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildApp } from "../core/app/app";
import { LocalTarget } from "../core/remote/local/local-target";
import { setTarget } from "../core/remote/target";
import { synthesize } from "../02_ml_inference/01_text_to_speech/speech";
import { recognize } from "../02_ml_inference/02_ocr/ocr";
import { textPng } from "../02_ml_inference/02_ocr/test-images";

const { values } = parseArgs({
  options: {
    tts: { type: "boolean", default: false },
    ocr: { type: "boolean", default: false },
    n: { type: "string", default: process.env.BENCH_N ?? "20" },
    "no-pool": { type: "boolean", default: false },
  },
});
const both = !values.tts && !values.ocr;
const N = Math.max(1, Number(values.n) || 20);
const ROOT = resolve(import.meta.dir, "..");

const SENTENCES = [
  "The quick brown fox jumps over the lazy dog.",
  "Serverless functions scale to zero when nobody is calling them.",
  "Please leave your message after the tone.",
  "The train to Amsterdam departs from platform four at half past nine.",
  "Bun starts fast, so cold starts stay short.",
  "Every example in this repository has its own tests.",
  "A warm worker keeps its model loaded between calls.",
  "Temperatures will reach twenty three degrees this afternoon.",
];

const LINES = [
  "Invoice 2041",
  "Total due 1280.50",
  "Thank you for your order",
  "Ship to 12 Harbour Road",
  "Reference AB-7731",
];

function stats(ms: number[]): { mean: number; p50: number; p95: number; min: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95), min: s[0]! };
}

function row(label: string, cold: number | null, warm: number[], extra = ""): void {
  const w = stats(warm);
  const f = (x: number) => x.toFixed(1).padStart(8);
  console.log(
    `${label.padEnd(34)} cold ${cold === null ? "       -" : f(cold)}   warm mean ${f(w.mean)}  p50 ${f(w.p50)}  p95 ${f(w.p95)}  min ${f(w.min)} ms  (n=${warm.length})${extra}`,
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

/** One OCR test image: five lines of a receipt, 640×300, DejaVu Sans, as PNG base64. */
async function receipt(i: number): Promise<string> {
  const lines = LINES.map((l, k) => ({ text: k === 0 ? `${l}-${i}` : l, x: 24, y: 50 + k * 52, size: 30 }));
  return (await textPng(640, 300, lines)).toString("base64");
}

async function benchTts(): Promise<void> {
  console.log(`\nTTS — eSpeak NG (WebAssembly), en-us, 175 wpm; one sentence per call`);
  const [cold, first] = await timed(() => synthesize({ text: SENTENCES[0]! }));
  const warm: number[] = [];
  let audio = 0;
  let synth = 0;
  for (let i = 0; i < N; i++) {
    const [ms, r] = await timed(() => synthesize({ text: SENTENCES[i % SENTENCES.length]! }));
    warm.push(ms);
    audio += r.duration_seconds;
    synth += r.synthesis_ms;
  }
  row("in process (engine call)", cold, warm, `  real-time factor ${(synth / 1000 / audio).toFixed(3)}`);
  if (first.cold_start !== true) console.log("  (note: the engine was already loaded before the cold call)");
}

async function benchOcr(): Promise<void> {
  console.log(`\nOCR — PP-OCRv4 det+rec on onnxruntime-node, 640×300 PNG with 5 text lines; one image per call`);
  const images = await Promise.all(Array.from({ length: N + 1 }, (_, i) => receipt(i)));
  const [cold, first] = await timed(() => recognize({ image_base64: images[0]! }));
  const warm: number[] = [];
  for (let i = 1; i <= N; i++) warm.push((await timed(() => recognize({ image_base64: images[i]! })))[0]);
  row(`in process (engine call, ${first.execution_provider})`, cold, warm, `  lines read: ${first.lines.length}/5`);
}

async function benchPool(tts: boolean, ocr: boolean): Promise<void> {
  const target = new LocalTarget();
  setTarget(target);
  try {
    const app = await buildApp({ root: ROOT, scope: { category: "02_ml_inference" } });
    const post = (path: string, body: unknown) =>
      app.fetch(
        new Request(`http://localhost/02_ml_inference${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
      );
    const call = async (path: string, body: unknown) => {
      const res = await post(path, body);
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    };
    console.log(
      `\nThrough the unified app and the local pool (route → remote() → pool worker); cold includes the worker start`,
    );
    if (tts) {
      const [cold] = await timed(() => call("/01_text_to_speech/cpu/tts", { text: SENTENCES[0] }));
      const warm: number[] = [];
      for (let i = 0; i < N; i++)
        warm.push(
          (await timed(() => call("/01_text_to_speech/cpu/tts", { text: SENTENCES[i % SENTENCES.length] })))[0],
        );
      row("TTS POST /tts (per sentence)", cold, warm);
    }
    if (ocr) {
      const images = await Promise.all(Array.from({ length: N + 1 }, (_, i) => receipt(i)));
      const [cold] = await timed(() => call("/02_ocr/gpu/ocr", { image_base64: images[0] }));
      const warm: number[] = [];
      for (let i = 1; i <= N; i++)
        warm.push((await timed(() => call("/02_ocr/gpu/ocr", { image_base64: images[i] })))[0]);
      row("OCR POST /ocr (per image)", cold, warm);
    }
  } finally {
    await target.shutdown();
  }
}

console.log(
  `bench/ml.ts — bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, ${process.platform}/${process.arch}, n=${N}`,
);
if (both || values.tts) await benchTts();
if (both || values.ocr) await benchOcr();
if (!values["no-pool"]) await benchPool(both || !!values.tts, both || !!values.ocr);
