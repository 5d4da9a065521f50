/** Small statistics and formatting helpers for the benchmark scripts. */

/** Median of a list of numbers (NaN for an empty list). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The value at percentile `p` (0–100): the sorted value at index floor(p/100 · n), clamped to the last one; for
 * p = 50 that is the upper median of an even-sized list (NaN for an empty list).
 */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Largest value (NaN for an empty list). */
export function max(values: number[]): number {
  return values.length ? Math.max(...values) : Number.NaN;
}

/** Smallest value (NaN for an empty list). */
export function min(values: number[]): number {
  return values.length ? Math.min(...values) : Number.NaN;
}

/** Milliseconds with a precision that suits their size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(0)} ms`;
}

/** A ratio such as `0.18×`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value < 10 ? value.toFixed(2) : value.toFixed(1)}×` : "—";
}

/** An integer with thousands separators. */
export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—";
}

/** "PASS" / "FAIL" for a target check, or "n/a" when a figure is missing. */
export function verdict(ok: boolean | undefined): string {
  return ok === undefined ? "n/a" : ok ? "PASS" : "FAIL";
}
