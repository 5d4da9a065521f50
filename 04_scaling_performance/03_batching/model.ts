/**
 * The model behind the batched route: lande (character 1–4-grams → one hidden layer → 50 languages), whose weights
 * (0.8 MB) ship inside the npm package. Loaded once per worker, on its first call.
 */
type Lande = (text: string) => [string, number][];
let loading: Promise<Lande> | undefined;

function model(): Promise<Lande> {
  loading ??= import("lande")
    .then((m) => m.default as Lande)
    .catch((err) => {
      loading = undefined;
      throw err;
    });
  return loading;
}

/** One text's best guess. */
export interface Guess {
  language: string;
  confidence: number;
}

/** Every text of a batch through the model in one call on the worker; what the batch cost there. */
export async function detectAll(texts: string[]): Promise<{ guesses: Guess[]; model_ms: number }> {
  const lande = await model();
  const started = performance.now();
  const guesses = texts.map((text) => {
    const [best] = lande(text);
    return best
      ? { language: best[0], confidence: Math.round(best[1] * 1000) / 1000 }
      : { language: "und", confidence: 0 };
  });
  return { guesses, model_ms: Math.round((performance.now() - started) * 100) / 100 };
}
