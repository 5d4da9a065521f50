import { CpuLiveLoadBalancer, InputError, logger, pyTitle, remote } from "flash";

/** CPU load-balanced endpoint (scales 0..3 by request count). */
export const cpuConfig = new CpuLiveLoadBalancer({ name: "03_05_cpu" });

/** The operations `transform` knows. */
export const OPERATIONS = ["uppercase", "lowercase", "reverse", "title"] as const;
/** One of `OPERATIONS`. */
export type Operation = (typeof OPERATIONS)[number];

function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

// Python's `str.title()` (flash's own, used for its tags): "they're" → "They'Re", as the original answers.
export { pyTitle };

/** Apply a transform operation; reverse works on code points, so emoji stay whole. */
export function applyOperation(text: string, operation: Operation): string {
  switch (operation) {
    case "uppercase":
      return text.toUpperCase();
    case "lowercase":
      return text.toLowerCase();
    case "reverse":
      return Array.from(text).reverse().join("");
    case "title":
      return pyTitle(text);
  }
}

function isOperation(value: string): value is Operation {
  return (OPERATIONS as readonly string[]).includes(value);
}

/** GET /health on the endpoint: is the CPU service up. */
export const cpuHealth = remote(cpuConfig, async () => ({ status: "healthy", service: "cpu" }), {
  method: "GET",
  path: "/health",
});

/** POST /validate on the endpoint: check text and count its characters and words. Blank text is an input error (400). */
export const validate = remote(
  cpuConfig,
  async (text: string) => {
    const start = performance.now();
    if (text.trim() === "") throw new InputError("text cannot be empty");
    const characterCount = Array.from(text).length;
    const wordCount = text.split(/\s+/).filter(Boolean).length;
    return {
      status: "success" as const,
      is_valid: true,
      character_count: characterCount,
      word_count: wordCount,
      // As the original: characters (spaces included) per word.
      average_word_length: wordCount > 0 ? Math.round((characterCount / wordCount) * 100) / 100 : 0,
      process_time_ms: elapsedMs(start),
      timestamp: new Date().toISOString(),
    };
  },
  { method: "POST", path: "/validate" },
);

/** POST /transform on the endpoint: uppercase, lowercase, reverse or title-case text. Bad input is a 400. */
export const transform = remote(
  cpuConfig,
  async (text: string, operation: string = "uppercase") => {
    const start = performance.now();
    if (text.trim() === "") throw new InputError("text cannot be empty");
    if (!isOperation(operation)) throw new InputError(`operation must be one of: ${OPERATIONS.join(", ")}`);
    return {
      status: "success" as const,
      original: text,
      transformed: applyOperation(text, operation),
      operation,
      process_time_ms: elapsedMs(start),
      timestamp: new Date().toISOString(),
    };
  },
  { method: "POST", path: "/transform" },
);

if (import.meta.main) {
  // `bun workers/cpu/endpoint.ts` calls each route function once through a worker.
  // It calls once this module has loaded: a remote function takes its name from the module's exports.
  setTimeout(async () => {
    const log = logger("05_load_balancer");
    log.log(
      JSON.stringify(
        [await cpuHealth(), await validate("Hello world from load balancer"), await transform("hello world", "title")],
        null,
        2,
      ),
    );
    process.exit(0);
  }, 0);
}
