import { Elysia, t, remote, sse, sseResponses, InputError, logger, LiveServerless, GpuGroup } from "flash";
import { CORPUS } from "./corpus";

// Workers import this module and get only its bundled code, never the files beside it: the training text is a
// module (./corpus.ts), and the model is built lazily on the first call, never at import time.

const log = logger("03_01_streaming");

/** Where the token generator runs: a GPU endpoint that scales from zero to three workers. */
const gpuConfig = new LiveServerless({
  name: "03_01_gpu",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
});

/** A word-bigram model: for each word, the words that follow it in the corpus and how often. */
interface Model {
  followers: Map<string, { word: string; count: number }[]>;
}

let model: Model | undefined;

/** Words and sentence punctuation, lower-cased. */
function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z']+|[.,:]/g) ?? [];
}

/** Count which word follows which (once per worker: the first call builds it, later calls reuse it). */
function train(text: string): Model {
  const tokens = tokenize(text);
  const counts = new Map<string, Map<string, number>>();
  for (let i = 0; i + 1 < tokens.length; i++) {
    const next = counts.get(tokens[i]!) ?? new Map<string, number>();
    next.set(tokens[i + 1]!, (next.get(tokens[i + 1]!) ?? 0) + 1);
    counts.set(tokens[i]!, next);
  }
  const followers = new Map<string, { word: string; count: number }[]>();
  for (const [word, next] of counts) {
    followers.set(
      word,
      [...next]
        .map(([w, count]) => ({ word: w, count }))
        .sort((a, b) => b.count - a.count || a.word.localeCompare(b.word)),
    );
  }
  log.debug(`model built: ${followers.size} words`);
  return { followers };
}

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same text on every worker. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A token and its position, as each one is streamed. */
export interface Token {
  index: number;
  token: string;
}

/** What to generate. */
export interface GenerateInput {
  prompt: string;
  max_tokens?: number;
  seed?: number;
  /** Pause after each token, ms: a slower model, so that you can watch tokens arrive. */
  delay_ms?: number;
}

/**
 * The remote generator: continues the prompt's last known word, one token at a time, and yields each token as
 * soon as it is picked (the caller receives it while the next one is computed). Stops after a full stop or
 * `max_tokens`.
 */
export const generateTokens = remote(gpuConfig, async function* (input: GenerateInput) {
  const m = (model ??= train(CORPUS));
  const known = tokenize(input.prompt).filter((w) => m.followers.has(w));
  if (!known.length) {
    throw new InputError("the prompt has no word the model knows; try words like stream, worker, token or client");
  }
  const random = seeded(input.seed ?? 3);
  let word = known.at(-1)!;
  for (let index = 0; index < (input.max_tokens ?? 24); index++) {
    const options = m.followers.get(word);
    if (!options) return;
    const total = options.reduce((sum, o) => sum + o.count, 0);
    let pick = random() * total;
    word = (options.find((o) => (pick -= o.count) < 0) ?? options.at(-1)!).word;
    yield { index, token: word } satisfies Token;
    if (word === ".") return;
    if (input.delay_ms) await Bun.sleep(input.delay_ms);
  }
});

/** Tokens back into text: words separated by spaces, punctuation attached to the word before it. */
export function detokenize(tokens: string[]): string {
  return tokens.reduce((text, tok) => (/^[.,:]$/.test(tok) || !text ? text + tok : `${text} ${tok}`), "");
}

const GenerateBody = t.Object({
  prompt: t.String({ minLength: 1, maxLength: 2000, examples: ["the worker"] }),
  max_tokens: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 24 })),
  seed: t.Optional(t.Integer({ minimum: 0, maximum: 4_294_967_295, default: 3 })),
  delay_ms: t.Optional(t.Integer({ minimum: 0, maximum: 1000, default: 0 })),
});

const ErrorReply = t.Object({ error: t.String(), message: t.String() }, { additionalProperties: true });

/** POST /generate (Server-Sent Events, one per token) and POST /complete (the same tokens collected as JSON). */
export const gpu_router = new Elysia()
  .post("/generate", ({ body }) => sse(generateTokens(body), { name: "generate" }), {
    body: GenerateBody,
    detail: {
      summary: "Stream generated tokens (Server-Sent Events)",
      description: "Runs generateTokens on a GPU worker and sends each token the moment the worker yields it.",
      // The stream's events, as the docs show them (a `response` schema could only say text/plain).
      responses: sseResponses(
        'one `data: {"index", "token"}` event per token as it is generated, then `event: done` with the count (or ' +
          "`event: error`)",
        { 400: ErrorReply },
      ),
    },
  })
  .post(
    "/complete",
    async ({ body }) => {
      const tokens: string[] = [];
      for await (const { token } of generateTokens(body)) tokens.push(token);
      return {
        prompt: body.prompt,
        text: detokenize(tokens),
        tokens: tokens.length,
        finish_reason: tokens.at(-1) === "." ? "stop" : "length",
      };
    },
    {
      body: GenerateBody,
      response: {
        200: t.Object({
          prompt: t.String(),
          text: t.String(),
          tokens: t.Integer(),
          finish_reason: t.Union([t.Literal("stop"), t.Literal("length")]),
        }),
        400: ErrorReply,
      },
      detail: {
        summary: "Generate and return the whole text",
        description: "The same generator read to its end on the server: one JSON reply.",
      },
    },
  );
