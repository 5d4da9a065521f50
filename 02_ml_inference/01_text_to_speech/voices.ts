/**
 * The voices and languages this example accepts. They are static so that the route schemas (and /docs) can list
 * them without loading the speech engine; `speech.test.ts` checks them against what eSpeak NG itself reports.
 */

/** A voice: an eSpeak NG variant applied on top of the language's base voice. */
export interface VoiceInfo {
  /** The name to send as `voice`. */
  name: string;
  /** The eSpeak NG variant file (`!v/<variant>`), or null for the language's own voice. */
  variant: string | null;
  gender: "male" | "female" | "neutral";
  description: string;
}

/** Every voice the API accepts, in the order `GET /voices` lists them. */
export const VOICES = [
  { name: "default", variant: null, gender: "male", description: "The language's own eSpeak NG voice" },
  { name: "m1", variant: "m1", gender: "male", description: "Male variant 1" },
  { name: "m2", variant: "m2", gender: "male", description: "Male variant 2" },
  { name: "m3", variant: "m3", gender: "male", description: "Male variant 3" },
  { name: "m4", variant: "m4", gender: "male", description: "Male variant 4" },
  { name: "m5", variant: "m5", gender: "male", description: "Male variant 5" },
  { name: "m6", variant: "m6", gender: "male", description: "Male variant 6" },
  { name: "m7", variant: "m7", gender: "male", description: "Male variant 7" },
  { name: "f1", variant: "f1", gender: "female", description: "Female variant 1" },
  { name: "f2", variant: "f2", gender: "female", description: "Female variant 2" },
  { name: "f3", variant: "f3", gender: "female", description: "Female variant 3" },
  { name: "f4", variant: "f4", gender: "female", description: "Female variant 4" },
  { name: "f5", variant: "f5", gender: "female", description: "Female variant 5" },
  {
    name: "klatt",
    variant: "klatt",
    gender: "neutral",
    description: "Klatt formant synthesis: softer, more rounded vowels",
  },
  { name: "whisper", variant: "whisper", gender: "male", description: "Whispered speech" },
  { name: "croak", variant: "croak", gender: "male", description: "Hoarse, croaky male voice" },
] as const satisfies readonly VoiceInfo[];

/** A voice name the API accepts. */
export type VoiceName = (typeof VOICES)[number]["name"];

/** The voice names, for schemas and error messages. */
export const VOICE_NAMES = VOICES.map((v) => v.name) as [VoiceName, ...VoiceName[]];

/** Language codes (eSpeak NG as shipped by @echogarden/espeak-ng-emscripten 0.3.5) and their names. */
export const LANGUAGES = [
  ["af", "Afrikaans"],
  ["am", "Amharic"],
  ["an", "Aragonese"],
  ["ar", "Arabic"],
  ["as", "Assamese"],
  ["az", "Azerbaijani"],
  ["ba", "Bashkir"],
  ["be", "Belarusian"],
  ["bg", "Bulgarian"],
  ["bn", "Bengali"],
  ["bpy", "Bishnupriya Manipuri"],
  ["bs", "Bosnian"],
  ["ca", "Catalan"],
  ["ca-ba", "Catalan (Balearic)"],
  ["ca-nw", "Catalan (North-western)"],
  ["ca-va", "Catalan (Valencian)"],
  ["chr-US-Qaaa-x-west", "Cherokee "],
  ["cmn", "Chinese (Mandarin, latin as English)"],
  ["cmn-latn-pinyin", "Chinese (Mandarin, latin as Pinyin)"],
  ["cs", "Czech"],
  ["cv", "Chuvash"],
  ["cy", "Welsh"],
  ["da", "Danish"],
  ["de", "German"],
  ["el", "Greek"],
  ["en-029", "English (Caribbean)"],
  ["en-gb", "English (Great Britain)"],
  ["en-gb-scotland", "English (Scotland)"],
  ["en-gb-x-gbclan", "English (Lancaster)"],
  ["en-gb-x-gbcwmd", "English (West Midlands)"],
  ["en-gb-x-rp", "English (Received Pronunciation)"],
  ["en-us", "English (America)"],
  ["en-us-nyc", "English (America, New York City)"],
  ["eo", "Esperanto"],
  ["es", "Spanish (Spain)"],
  ["es-419", "Spanish (Latin America)"],
  ["et", "Estonian"],
  ["eu", "Basque"],
  ["fa", "Persian"],
  ["fa-latn", "Persian (Pinglish)"],
  ["fi", "Finnish"],
  ["fo", "Faroese"],
  ["fr-be", "French (Belgium)"],
  ["fr-ch", "French (Switzerland)"],
  ["fr-fr", "French (France)"],
  ["ga", "Gaelic (Irish)"],
  ["gd", "Gaelic (Scottish)"],
  ["gn", "Guarani"],
  ["grc", "Greek (Ancient)"],
  ["gu", "Gujarati"],
  ["hak", "Hakka Chinese"],
  ["haw", "Hawaiian"],
  ["he", "Hebrew"],
  ["hi", "Hindi"],
  ["hr", "Croatian"],
  ["ht", "Haitian Creole"],
  ["hu", "Hungarian"],
  ["hy", "Armenian (East Armenia)"],
  ["hyw", "Armenian (West Armenia)"],
  ["ia", "Interlingua"],
  ["id", "Indonesian"],
  ["io", "Ido"],
  ["is", "Icelandic"],
  ["it", "Italian"],
  ["ja", "Japanese"],
  ["jbo", "Lojban"],
  ["ka", "Georgian"],
  ["kaa", "Karakalpak"],
  ["kk", "Kazakh"],
  ["kl", "Greenlandic"],
  ["kn", "Kannada"],
  ["ko", "Korean"],
  ["kok", "Konkani"],
  ["ku", "Kurdish"],
  ["ky", "Kyrgyz"],
  ["la", "Latin"],
  ["lb", "Luxembourgish"],
  ["lfn", "Lingua Franca Nova"],
  ["lt", "Lithuanian"],
  ["ltg", "Latgalian"],
  ["lv", "Latvian"],
  ["mi", "M\u0101ori"],
  ["mk", "Macedonian"],
  ["ml", "Malayalam"],
  ["mr", "Marathi"],
  ["ms", "Malay"],
  ["mt", "Maltese"],
  ["mto", "Totontepec Mixe"],
  ["my", "Myanmar (Burmese)"],
  ["nb", "Norwegian Bokm\u00e5l"],
  ["nci", "Nahuatl (Classical)"],
  ["ne", "Nepali"],
  ["nl", "Dutch"],
  ["nog", "Nogai"],
  ["om", "Oromo"],
  ["or", "Oriya"],
  ["pa", "Punjabi"],
  ["pap", "Papiamento"],
  ["piqd", "Klingon"],
  ["pl", "Polish"],
  ["pt", "Portuguese (Portugal)"],
  ["pt-br", "Portuguese (Brazil)"],
  ["py", "Pyash"],
  ["qdb", "Lang Belta"],
  ["qu", "Quechua"],
  ["quc", "K'iche'"],
  ["qya", "Quenya"],
  ["ro", "Romanian"],
  ["ru", "Russian"],
  ["ru-cl", "Russian (Classic)"],
  ["ru-lv", "Russian (Latvia)"],
  ["sd", "Sindhi"],
  ["shn", "Shan (Tai Yai)"],
  ["si", "Sinhala"],
  ["sjn", "Sindarin"],
  ["sk", "Slovak"],
  ["sl", "Slovenian"],
  ["smj", "Lule Saami"],
  ["sq", "Albanian"],
  ["sr", "Serbian"],
  ["sv", "Swedish"],
  ["sw", "Swahili"],
  ["ta", "Tamil"],
  ["te", "Telugu"],
  ["th", "Thai"],
  ["ti", "Tigrinya"],
  ["tk", "Turkmen"],
  ["tn", "Setswana"],
  ["tr", "Turkish"],
  ["tt", "Tatar"],
  ["ug", "Uyghur"],
  ["uk", "Ukrainian"],
  ["ur", "Urdu"],
  ["uz", "Uzbek"],
  ["vi", "Vietnamese (Northern)"],
  ["vi-vn-x-central", "Vietnamese (Central)"],
  ["vi-vn-x-south", "Vietnamese (Southern)"],
  ["xex", "xextan-test"],
  ["yue", "Chinese (Cantonese)"],
] as const satisfies readonly (readonly [string, string])[];

/** A language code the API accepts. */
export type LanguageCode = (typeof LANGUAGES)[number][0];

/** The language codes, for schemas and error messages. */
export const LANGUAGE_CODES = LANGUAGES.map(([code]) => code) as [LanguageCode, ...LanguageCode[]];

/** `language: "auto"`: detect the language of the text (detect.ts) and speak it with that language's voice. */
export const AUTO = "auto";

/** What a request may name as `language`: "auto" or an eSpeak NG code. */
export type LanguageChoice = typeof AUTO | LanguageCode;

/** Every accepted `language`, for schemas and error messages ("auto" first). */
export const LANGUAGE_CHOICES = [AUTO, ...LANGUAGE_CODES] as [LanguageChoice, ...LanguageChoice[]];

/** What a request gets when it names no voice, language, rate or pitch. */
export const DEFAULTS = { voice: "default", language: AUTO, rate: 175, pitch: 50 } as const satisfies {
  voice: VoiceName;
  language: LanguageChoice;
  rate: number;
  pitch: number;
};

/** The language `auto` falls back to when the text's language is unsure or has no eSpeak NG voice. */
export const FALLBACK_LANGUAGE: LanguageCode = "en-us";

/** Limits on a request, shared by the route schema and the engine's own checks. */
export const LIMITS = { maxChars: 5000, minRate: 80, maxRate: 450, minPitch: 0, maxPitch: 99 } as const;

/** The voice with this name, or undefined. */
export function findVoice(name: string): VoiceInfo | undefined {
  return VOICES.find((v) => v.name === name);
}

/** Whether `code` is a language the API accepts ("auto" or an eSpeak NG code). */
export function isLanguage(code: string): code is LanguageChoice {
  return (LANGUAGE_CHOICES as string[]).includes(code);
}
