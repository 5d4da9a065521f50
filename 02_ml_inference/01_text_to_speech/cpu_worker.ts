import { CpuInstanceType, CpuLiveServerless, Elysia, remote, t } from "flash";
import { synthesize, type SpeechRequest } from "./speech";
import { DEFAULTS, LANGUAGES, LANGUAGE_CHOICES, LIMITS, VOICES, VOICE_NAMES } from "./voices";

/**
 * A CPU endpoint: eSpeak NG is formant synthesis (rules and signal processing, not a neural model) compiled to
 * WebAssembly, and it runs on one CPU core in milliseconds. A GPU would add cost and cold-start time and speed
 * nothing up. (The Python original ran the neural Qwen3-TTS on a 24 GB GPU; see the README for what that buys.)
 */
export const cpuConfig = new CpuLiveServerless({
  name: "02_01_text_to_speech_cpu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 30,
});

/** The remote function: turn text into a WAV file. The engine loads on a worker's first call and stays loaded. */
export const generateSpeech = remote(cpuConfig, async (req: SpeechRequest) => synthesize(req), {
  dependencies: ["@echogarden/espeak-ng-emscripten@0.3.5", "@echogarden/wave-codec@0.4.0", "lande@1.0.10"],
});

const SpeechBody = t.Object(
  {
    text: t.String({
      minLength: 1,
      maxLength: LIMITS.maxChars,
      pattern: "\\S",
      description: `What to say (1–${LIMITS.maxChars} characters, not blank).`,
      examples: ["Hello from flash. This sentence was spoken by eSpeak NG."],
      error: `text must be 1 to ${LIMITS.maxChars} characters and not blank`,
    }),
    voice: t.Optional(
      t.UnionEnum(VOICE_NAMES, {
        default: DEFAULTS.voice,
        description: "A voice from GET /voices.",
        examples: ["f3"],
        error: `Unknown voice. Valid voices: ${VOICE_NAMES.join(", ")}`,
      }),
    ),
    language: t.Optional(
      t.UnionEnum(LANGUAGE_CHOICES, {
        default: DEFAULTS.language,
        description: '"auto" (detect the language of the text) or an eSpeak NG language code from GET /voices.',
        examples: ["auto", "en-us"],
        error: `Unknown language. Valid languages: ${LANGUAGE_CHOICES.join(", ")}`,
      }),
    ),
    rate: t.Optional(
      t.Integer({
        minimum: LIMITS.minRate,
        maximum: LIMITS.maxRate,
        default: DEFAULTS.rate,
        description: "Speaking rate in words per minute.",
        examples: [175],
        error: `rate must be an integer from ${LIMITS.minRate} to ${LIMITS.maxRate} (words per minute)`,
      }),
    ),
    pitch: t.Optional(
      t.Integer({
        minimum: LIMITS.minPitch,
        maximum: LIMITS.maxPitch,
        default: DEFAULTS.pitch,
        description: "Base pitch, 0 (low) to 99 (high).",
        examples: [50],
        error: `pitch must be an integer from ${LIMITS.minPitch} to ${LIMITS.maxPitch}`,
      }),
    ),
  },
  {
    examples: [
      { text: "Hello from flash. This sentence was spoken by eSpeak NG.", voice: "f3", language: "en-us" },
      { text: "Bonjour tout le monde, comment allez-vous ?", voice: "m3", language: "auto", rate: 150 },
    ],
  },
);

const Detection = t.Object({
  detected: t.String({ description: "ISO 639-3 code of lande's best guess" }),
  confidence: t.Number({ description: "its probability, 0–1" }),
  used: t.String({ description: "the eSpeak NG language the speech was made with" }),
  note: t.Nullable(t.String({ description: "why `used` is not the detected language" })),
});

const SpeechReply = t.Object({
  status: t.Literal("success"),
  audio_base64: t.String({ description: "16-bit mono WAV, base64" }),
  format: t.Literal("wav"),
  sample_rate: t.Integer(),
  duration_seconds: t.Number(),
  voice: t.String(),
  language: t.String({ description: "the eSpeak NG language used (the detected one for auto)" }),
  language_detection: t.Nullable(Detection),
  rate: t.Integer(),
  pitch: t.Integer(),
  text: t.String(),
  engine: t.Literal("espeak-ng"),
  synthesis_ms: t.Number({ description: "time on the worker, engine load excluded" }),
  cold_start: t.Boolean({ description: "true when this call loaded the engine" }),
  timestamp: t.String({ format: "date-time" }),
});

const VoicesReply = t.Object({
  status: t.Literal("success"),
  engine: t.Literal("espeak-ng"),
  defaults: t.Object({ voice: t.String(), language: t.String(), rate: t.Integer(), pitch: t.Integer() }),
  voices: t.Array(
    t.Object({ name: t.String(), variant: t.Nullable(t.String()), gender: t.String(), description: t.String() }),
  ),
  languages: t.Array(t.Object({ code: t.String(), name: t.String() })),
});

/** POST /tts, POST /tts/audio, GET /voices: speech synthesis with eSpeak NG on a CPU worker. */
export const cpu_router = new Elysia()
  .post("/tts", ({ body }) => generateSpeech(body), {
    body: SpeechBody,
    response: { 200: SpeechReply },
    detail: {
      summary: "Synthesize speech (JSON with a base64 WAV)",
      description:
        "Returns the audio as a base64-encoded 16-bit mono WAV, with its sample rate, duration, voice and language. " +
        'With `language: "auto"` (the default) the language is detected from the text (`language_detection`). ' +
        "An unknown voice or language is a 422 that lists the valid ones.",
    },
  })
  .post(
    "/tts/audio",
    async ({ body }) => {
      const speech = await generateSpeech(body);
      return new Response(Buffer.from(speech.audio_base64, "base64"), {
        headers: {
          "content-type": "audio/wav",
          "content-disposition": "attachment; filename=speech.wav",
          "x-sample-rate": String(speech.sample_rate),
          "x-duration-seconds": String(speech.duration_seconds),
          "x-language": speech.language,
        },
      });
    },
    {
      body: SpeechBody,
      detail: {
        summary: "Synthesize speech (WAV bytes)",
        description:
          "Same body as POST /tts; the response is the WAV file itself (`audio/wav`), ready for `curl --output speech.wav`.",
        responses: {
          200: {
            description: "A 16-bit mono WAV file",
            content: { "audio/wav": { schema: { type: "string", format: "binary" } } },
          },
        },
      },
    },
  )
  .get(
    "/voices",
    () => ({
      status: "success" as const,
      engine: "espeak-ng" as const,
      defaults: DEFAULTS,
      voices: [...VOICES],
      languages: LANGUAGES.map(([code, name]) => ({ code, name })),
    }),
    {
      response: { 200: VoicesReply },
      detail: {
        summary: "List voices and languages",
        description: 'The voices and language codes that POST /tts accepts ("auto" besides), and the defaults.',
      },
    },
  );
