/**
 * The speech engine: eSpeak NG compiled to WebAssembly. It runs offline (the voice data ships inside the npm
 * package), is loaded lazily on the first call and then reused by every later call in the same worker.
 */
import { encodeWaveFromBuffer, SampleFormat } from "@echogarden/wave-codec";
import { InputError, logger } from "flash";
import { detectLanguage, type Detection } from "./detect";
import {
  AUTO,
  DEFAULTS,
  FALLBACK_LANGUAGE,
  LANGUAGE_CHOICES,
  LIMITS,
  VOICE_NAMES,
  findVoice,
  isLanguage,
  type LanguageChoice,
  type VoiceInfo,
} from "./voices";

const log = logger("tts");

/** What to say and how. Only `text` is required. */
export interface SpeechRequest {
  text: string;
  voice?: string;
  /** "auto" (the default: detected from the text) or an eSpeak NG language code. */
  language?: string;
  /** Words per minute (80–450). */
  rate?: number;
  /** Base pitch (0–99). */
  pitch?: number;
}

/** Synthesized speech: a 16-bit mono WAV file, base64-encoded, and what produced it. */
export interface SpeechResult {
  status: "success";
  audio_base64: string;
  format: "wav";
  sample_rate: number;
  duration_seconds: number;
  voice: string;
  /** The eSpeak NG language the speech was made with (the detected one for "auto"). */
  language: string;
  /** With `language: "auto"`: what lande detected and why another language was used, if one was; else null. */
  language_detection: Detection | null;
  rate: number;
  pitch: number;
  text: string;
  engine: "espeak-ng";
  /** How long synthesis took on the worker, in milliseconds (engine load excluded). */
  synthesis_ms: number;
  /** True when this call loaded the engine (the first call in a worker). */
  cold_start: boolean;
  timestamp: string;
}

/** The subset of the Emscripten binding that this module uses (the package ships no types). */
interface EspeakWorker {
  set_voice(name: string): number;
  set_rate(wpm: number): number;
  set_pitch(pitch: number): number;
  get_samplerate(): number;
  synthesize(text: string, onChunk: (samples: Int16Array | null, events: unknown[]) => number): void;
  list_voices(): { name: string; identifier: string; languages: { priority: number; name: string }[] }[];
}

/** The loaded engine, what its data files hold, and how long loading took. */
export interface Engine {
  worker: EspeakWorker;
  sampleRate: number;
  /** Voice variant files in the engine's data (`!v/*`). */
  variants: string[];
  /** The eSpeak voice identifier (`gmw/en-US`) for each language code: variants attach reliably to identifiers only. */
  identifiers: Map<string, string>;
  loadMs: number;
}

interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
  FS: { readdir(path: string): string[] };
}

const VARIANT_DIR = "/usr/share/espeak-ng-data/voices/!v";

let loading: Promise<Engine> | undefined;

/** Load eSpeak NG once per worker (about 0.3 s); every later call reuses it. A failed load is retried next call. */
export function loadEngine(): Promise<Engine> {
  loading ??= (async () => {
    const started = performance.now();
    // Imported here, not at the top: the server process that only mounts the routes never parses the 0.8 MB module.
    const { default: initEspeak } = await import("@echogarden/espeak-ng-emscripten");
    const module = (await initEspeak()) as EspeakModule;
    const worker = new module.eSpeakNGWorker();
    const variants = module.FS.readdir(VARIANT_DIR).filter((f) => !f.startsWith("."));
    const identifiers = new Map<string, string>();
    for (const v of worker.list_voices()) {
      const code = v.languages[0]?.name;
      if (code && !identifiers.has(code)) identifiers.set(code, v.identifier);
    }
    const engine = {
      worker,
      sampleRate: worker.get_samplerate(),
      variants,
      identifiers,
      loadMs: performance.now() - started,
    };
    log.info(`eSpeak NG loaded in ${engine.loadMs.toFixed(0)} ms (${engine.sampleRate} Hz)`);
    return engine;
  })().catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/** The eSpeak voice name for a language and voice: `gmw/en-US`, or `gmw/en-US+f3` with a variant. */
export function espeakVoiceName(engine: Engine, language: string, voice: VoiceInfo): string {
  const base = engine.identifiers.get(language) ?? language;
  return voice.variant ? `${base}+${voice.variant}` : base;
}

function checkRequest(req: SpeechRequest): {
  text: string;
  voice: VoiceInfo;
  language: LanguageChoice;
  rate: number;
  pitch: number;
} {
  const text = typeof req?.text === "string" ? req.text.trim() : "";
  if (!text) throw new InputError("text must not be empty");
  if (text.length > LIMITS.maxChars)
    throw new InputError(`text is too long (${text.length} characters; at most ${LIMITS.maxChars})`);
  const voiceName = req.voice ?? DEFAULTS.voice;
  const voice = findVoice(voiceName);
  if (!voice) throw new InputError(`Unknown voice '${voiceName}'. Valid voices: ${VOICE_NAMES.join(", ")}`);
  const language = req.language ?? DEFAULTS.language;
  if (!isLanguage(language))
    throw new InputError(`Unknown language '${language}'. Valid languages: ${LANGUAGE_CHOICES.join(", ")}`);
  const rate = req.rate ?? DEFAULTS.rate;
  if (!Number.isInteger(rate) || rate < LIMITS.minRate || rate > LIMITS.maxRate) {
    throw new InputError(
      `rate must be an integer from ${LIMITS.minRate} to ${LIMITS.maxRate} (words per minute), got ${rate}`,
    );
  }
  const pitch = req.pitch ?? DEFAULTS.pitch;
  if (!Number.isInteger(pitch) || pitch < LIMITS.minPitch || pitch > LIMITS.maxPitch) {
    throw new InputError(`pitch must be an integer from ${LIMITS.minPitch} to ${LIMITS.maxPitch}, got ${pitch}`);
  }
  return { text, voice, language, rate, pitch };
}

/** Raw synthesis: the 16-bit samples for `text`, with the voice, rate and pitch set first (they are sticky in eSpeak). */
export function renderSamples(
  engine: Engine,
  text: string,
  espeakVoice: string,
  rate: number,
  pitch: number,
): Int16Array {
  const code = engine.worker.set_voice(espeakVoice);
  if (code !== 0) throw new Error(`eSpeak NG could not select voice '${espeakVoice}' (code ${code})`);
  engine.worker.set_rate(rate);
  engine.worker.set_pitch(pitch);
  const chunks: Int16Array[] = [];
  // The callback gets each chunk of audio; returning 0 asks eSpeak to continue.
  engine.worker.synthesize(text, (samples) => {
    if (samples && samples.length) chunks.push(samples);
    return 0;
  });
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Int16Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Encode 16-bit mono samples as a WAV file. */
export function toWav(samples: Int16Array, sampleRate: number): Uint8Array {
  return encodeWaveFromBuffer(
    new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
    sampleRate,
    1,
    16,
    SampleFormat.PCM,
  );
}

/** Turn text into speech: validates the request (InputError → 400), loads the engine if needed, returns a WAV. */
export async function synthesize(req: SpeechRequest): Promise<SpeechResult> {
  const { text, voice, language: requested, rate, pitch } = checkRequest(req);
  const detection = requested === AUTO ? await detectLanguage(text, FALLBACK_LANGUAGE) : null;
  const language = detection?.used ?? (requested as Exclude<LanguageChoice, typeof AUTO>);
  const cold = loading === undefined;
  const engine = await loadEngine();
  const started = performance.now();
  const samples = renderSamples(engine, text, espeakVoiceName(engine, language, voice), rate, pitch);
  if (samples.length === 0) throw new Error("eSpeak NG produced no audio");
  const wav = toWav(samples, engine.sampleRate);
  return {
    status: "success",
    audio_base64: Buffer.from(wav).toString("base64"),
    format: "wav",
    sample_rate: engine.sampleRate,
    duration_seconds: Math.round((samples.length / engine.sampleRate) * 1000) / 1000,
    voice: voice.name,
    language,
    language_detection: detection,
    rate,
    pitch,
    text,
    engine: "espeak-ng",
    synthesis_ms: Math.round((performance.now() - started) * 10) / 10,
    cold_start: cold,
    timestamp: new Date().toISOString(),
  };
}
