import { Elysia, GpuGroup, LiveServerless, remote, t } from "flash";
import { synthesize, type SpeechRequest } from "./speech";
import { DEFAULTS, LANGUAGES, LANGUAGE_CODES, LIMITS, VOICES, VOICE_NAMES } from "./voices";

/**
 * The GPU endpoint of the original (Qwen3-TTS needed 24 GB of VRAM). eSpeak NG itself runs on the worker's CPU,
 * so for eSpeak alone a `CpuLiveServerless` config is the cheaper choice; the GPU config is where a neural
 * engine would go (see the README).
 */
export const gpuConfig = new LiveServerless({
  name: "02_01_text_to_speech_gpu",
  gpus: [GpuGroup.ADA_24],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
});

/** The remote function: turn text into a WAV file. The engine loads on a worker's first call and stays loaded. */
export const generateSpeech = remote(gpuConfig, async (req: SpeechRequest) => synthesize(req), {
  dependencies: ["@echogarden/espeak-ng-emscripten@0.3.5", "@echogarden/wave-codec@0.4.0"],
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
      t.UnionEnum(LANGUAGE_CODES, {
        default: DEFAULTS.language,
        description: "An eSpeak NG language code from GET /voices.",
        examples: ["en-us"],
        error: `Unknown language. Valid languages: ${LANGUAGE_CODES.join(", ")}`,
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
      { text: "Bonjour tout le monde.", voice: "m3", language: "fr-fr", rate: 150 },
    ],
  },
);

/** POST /tts, POST /tts/audio, GET /voices: speech synthesis with eSpeak NG. */
export const gpu_router = new Elysia()
  .post("/tts", ({ body }) => generateSpeech(body), {
    body: SpeechBody,
    detail: {
      summary: "Synthesize speech (JSON with a base64 WAV)",
      description:
        "Returns the audio as a base64-encoded 16-bit mono WAV, with its sample rate, duration, voice and language. " +
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
      status: "success",
      engine: "espeak-ng",
      defaults: DEFAULTS,
      voices: VOICES,
      languages: LANGUAGES.map(([code, name]) => ({ code, name })),
    }),
    {
      detail: {
        summary: "List voices and languages",
        description: "The voices and language codes that POST /tts accepts, and the defaults.",
      },
    },
  );
