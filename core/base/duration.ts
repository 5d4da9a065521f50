/** The one duration syntax of every flag that takes one (`--cold-start`, `--since`, `--lb-probe`, `--timeout`). */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A duration in milliseconds: a number with a unit, `500ms`, `1.5s`, `2m`, `1h`, `1d`; a bare number is
 * milliseconds. Throws a one-line error naming `flag` (when given) and the examples.
 */
export function parseDuration(value: string, flag?: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) {
    throw new Error(`${flag ? `${flag}: ` : ""}"${value}" is not a duration (examples: 500ms, 5s, 2m, 1h, 1d)`);
  }
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? "ms") as keyof typeof UNIT_MS]);
}
