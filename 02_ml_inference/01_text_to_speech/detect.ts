/**
 * `language: "auto"`: pick the eSpeak NG voice from the text itself with lande, a small neural language
 * identifier (character n-grams → one hidden layer → 50 languages, 0.8 MB, shipped inside its npm package).
 * The same model serves `02_ml_inference/03_language_id`.
 */
import type { LanguageCode } from "./voices";

/** Below this probability the guess is not trusted and the fallback language is used (and said so). */
export const MIN_CONFIDENCE = 0.7;
/** Fewer letters than this are too little to tell languages apart ("ok" comes out as Afrikaans at 0.55). */
export const MIN_LETTERS = 12;

/** lande's ISO 639-3 codes → eSpeak NG language codes; `null`: eSpeak NG has no voice for that language. */
export const ESPEAK_FOR: Record<string, LanguageCode | null> = {
  afr: "af",
  ara: "ar",
  aze: "az",
  bel: "be",
  ben: "bn",
  bul: "bg",
  cat: "ca",
  ces: "cs",
  ckb: null, // Central Kurdish (Sorani); eSpeak's "ku" is Kurmanji
  cmn: "cmn",
  dan: "da",
  deu: "de",
  ell: "el",
  eng: "en-us",
  est: "et",
  eus: "eu",
  fin: "fi",
  fra: "fr-fr",
  hau: null,
  heb: "he",
  hin: "hi",
  hrv: "hr",
  hun: "hu",
  hye: "hy",
  ind: "id",
  isl: "is",
  ita: "it",
  jpn: "ja",
  kat: "ka",
  kaz: "kk",
  kor: "ko",
  lit: "lt",
  mar: "mr",
  mkd: "mk",
  nld: "nl",
  nob: "nb",
  pes: "fa",
  pol: "pl",
  por: "pt",
  ron: "ro",
  run: null,
  rus: "ru",
  slk: "sk",
  spa: "es",
  srp: "sr",
  swe: "sv",
  tgl: null,
  tur: "tr",
  ukr: "uk",
  vie: "vi",
};

/** What `auto` found: lande's best guess, its probability, and the eSpeak language that was used. */
export interface Detection {
  /** ISO 639-3 code of lande's best guess. */
  detected: string;
  confidence: number;
  /** The eSpeak NG language the speech was made with. */
  used: LanguageCode;
  /** Why `used` is not the detected language (low confidence, or no eSpeak voice for it); null when it is. */
  note: string | null;
}

type Lande = (text: string) => [string, number][];
let lande: Promise<Lande> | undefined;

/** Detect the language of `text` and choose the eSpeak language, falling back to `fallback` with a note. */
export async function detectLanguage(text: string, fallback: LanguageCode): Promise<Detection> {
  // Imported on first use, on the worker: the server that only mounts the routes never loads the model.
  lande ??= import("lande").then((m) => m.default as Lande);
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (letters < MIN_LETTERS) {
    return {
      detected: "und",
      confidence: 0,
      used: fallback,
      note: `too short to detect (< ${MIN_LETTERS} letters): used ${fallback}`,
    };
  }
  const [best] = (await lande)(text);
  const [detected, probability] = best ?? ["und", 0];
  const confidence = Math.round(probability * 1000) / 1000;
  const espeak = ESPEAK_FOR[detected];
  if (confidence < MIN_CONFIDENCE) {
    return { detected, confidence, used: fallback, note: `low confidence (< ${MIN_CONFIDENCE}): used ${fallback}` };
  }
  if (!espeak)
    return { detected, confidence, used: fallback, note: `eSpeak NG has no ${detected} voice: used ${fallback}` };
  return { detected, confidence, used: espeak, note: null };
}
