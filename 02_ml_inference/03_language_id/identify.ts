/**
 * Language identification with lande: a small neural network (character 1–4-grams → one hidden layer → 50
 * languages) trained on Tatoeba sentences. Its weights (0.8 MB) ship inside the npm package: no download.
 * Plain functions, so tests call them directly; cpu_worker.ts runs them on the endpoint's workers.
 */
import { InputError } from "flash";

/** The 50 languages lande knows: ISO 639-3 code → English name. */
export const LANGUAGE_NAMES: Record<string, string> = {
  afr: "Afrikaans",
  ara: "Arabic",
  aze: "Azerbaijani",
  bel: "Belarusian",
  ben: "Bengali",
  bul: "Bulgarian",
  cat: "Catalan",
  ces: "Czech",
  ckb: "Kurdish",
  cmn: "Mandarin",
  dan: "Danish",
  deu: "German",
  ell: "Greek",
  eng: "English",
  est: "Estonian",
  eus: "Basque",
  fin: "Finnish",
  fra: "French",
  hau: "Hausa",
  heb: "Hebrew",
  hin: "Hindi",
  hrv: "Croatian",
  hun: "Hungarian",
  hye: "Armenian",
  ind: "Indonesian",
  isl: "Icelandic",
  ita: "Italian",
  jpn: "Japanese",
  kat: "Georgian",
  kaz: "Kazakh",
  kor: "Korean",
  lit: "Lithuanian",
  mar: "Marathi",
  mkd: "Macedonian",
  nld: "Dutch",
  nob: "Norwegian",
  pes: "Persian",
  pol: "Polish",
  por: "Portuguese",
  ron: "Romanian",
  run: "Rundi",
  rus: "Russian",
  slk: "Slovak",
  spa: "Spanish",
  srp: "Serbian",
  swe: "Swedish",
  tgl: "Tagalog",
  tur: "Turkish",
  ukr: "Ukrainian",
  vie: "Vietnamese",
};

/** Fewer letters than this are too little to tell languages apart ("ok" comes out as Afrikaans at 0.55). */
export const MIN_LETTERS = 12;
/** Below this probability the best guess is reported, but not as reliable. */
export const MIN_CONFIDENCE = 0.7;
/** Limits shared by the route schemas and the function's own checks. */
export const LIMITS = { maxChars: 10_000, maxTexts: 100, maxTop: 10 } as const;

/** One candidate language and its probability. */
export interface Candidate {
  language: string;
  name: string;
  confidence: number;
}

/** The verdict on one text. */
export interface Identified {
  /** ISO 639-3 of the best guess ("und" when the text has no letters). */
  language: string;
  name: string;
  confidence: number;
  /** False when the text is shorter than MIN_LETTERS letters or the best guess is under MIN_CONFIDENCE. */
  reliable: boolean;
  /** The `top` best guesses, best first. */
  candidates: Candidate[];
  /** Letters (any script) in the text: the evidence the model had. */
  letters: number;
}

/** A batch request: up to 100 texts, and how many candidates to list for each (1–10). */
export interface IdentifyRequest {
  texts: string[];
  top?: number;
}

/** The verdicts, in the order of the texts, and what the batch cost on the worker. */
export interface IdentifyResult {
  results: Identified[];
  model: "lande 1.0.10 (50 languages)";
  detect_ms: number;
  cold_start: boolean;
}

type Lande = (text: string) => [string, number][];
let loading: Promise<Lande> | undefined;

/** Load the model once per worker (imported on first use: the server that only mounts the routes never loads it). */
function model(): Promise<Lande> {
  loading ??= import("lande")
    .then((m) => m.default as Lande)
    .catch((err) => {
      loading = undefined;
      throw err;
    });
  return loading;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Identify the language of one text with a loaded model. */
export function identifyOne(lande: Lande, text: string, top = 3): Identified {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (letters === 0)
    return { language: "und", name: "Undetermined", confidence: 0, reliable: false, candidates: [], letters };
  const candidates = lande(text)
    .slice(0, top)
    .map(([language, p]) => ({ language, name: LANGUAGE_NAMES[language] ?? language, confidence: round(p) }));
  const best = candidates[0]!;
  const reliable = letters >= MIN_LETTERS && best.confidence >= MIN_CONFIDENCE;
  return { ...best, reliable, candidates, letters };
}

/** The remote function's body: check the request (InputError → 400), load the model if needed, identify each text. */
export async function identify(req: IdentifyRequest): Promise<IdentifyResult> {
  const texts = req?.texts;
  if (!Array.isArray(texts) || texts.length === 0) throw new InputError("texts must be a non-empty list of strings");
  if (texts.length > LIMITS.maxTexts)
    throw new InputError(`at most ${LIMITS.maxTexts} texts per request (got ${texts.length})`);
  const bad = texts.findIndex((t) => typeof t !== "string" || t.length > LIMITS.maxChars);
  if (bad >= 0) throw new InputError(`texts[${bad}] must be a string of at most ${LIMITS.maxChars} characters`);
  const top = req.top ?? 3;
  if (!Number.isInteger(top) || top < 1 || top > LIMITS.maxTop)
    throw new InputError(`top must be an integer from 1 to ${LIMITS.maxTop}`);
  const cold = loading === undefined;
  const lande = await model();
  const started = performance.now();
  const results = texts.map((t) => identifyOne(lande, t, top));
  return {
    results,
    model: "lande 1.0.10 (50 languages)",
    detect_ms: round(performance.now() - started),
    cold_start: cold,
  };
}
