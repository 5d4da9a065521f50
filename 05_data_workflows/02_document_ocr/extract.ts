/**
 * The CPU stage: find the total, the other amounts and the dates in a document's OCR text. Plain rules (regular
 * expressions and a little arithmetic), deterministic and explainable: every field says which line it came from.
 */

/** An amount of money found on a line. */
export interface Amount {
  value: number;
  currency: string | null;
  line: string;
}

/** A date found in the text, and its ISO form (YYYY-MM-DD) when it is unambiguous. */
export interface FoundDate {
  text: string;
  iso: string | null;
  line: string;
}

/** What the CPU stage returns. */
export interface Extracted {
  total: Amount | null;
  /** How the total was chosen: a line that says "total", or the largest amount when none does. */
  total_source: "total line" | "largest amount" | null;
  subtotal: Amount | null;
  tax: Amount | null;
  amounts: Amount[];
  dates: FoundDate[];
}

const CURRENCY: Record<string, string> = { $: "USD", "€": "EUR", "£": "GBP", "¥": "JPY" };
// 1,234.56 or 1234.56 or 1.234,56 (decimal comma), with an optional currency sign before or a code after.
const AMOUNT = /([$€£¥])?\s?(\d{1,3}(?:[,.]\d{3})+|\d+)[.,](\d{2})(?!\d)\s?(USD|EUR|GBP)?/gi;
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function toNumber(whole: string, cents: string): number {
  return Number(`${whole.replace(/[,.]/g, "")}.${cents}`);
}

/** Every amount with two decimals on a line. */
export function amountsIn(line: string): Amount[] {
  return [...line.matchAll(AMOUNT)].map((m) => ({
    value: toNumber(m[2]!, m[3]!),
    currency: m[1] ? CURRENCY[m[1]]! : m[4] ? m[4].toUpperCase() : null,
    line,
  }));
}

const pad = (n: number) => String(n).padStart(2, "0");
function iso(y: number, m: number, d: number): string | null {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
    ? `${y}-${pad(m)}-${pad(d)}`
    : null;
}

/** Dates on a line: 2026-11-28, 28.11.2026, 11/28/2026 (ISO only when day and month cannot be swapped), 28 Nov 2026, Nov 28, 2026. */
export function datesIn(line: string): FoundDate[] {
  const found: FoundDate[] = [];
  for (const m of line.matchAll(/\b(\d{4})-(\d{2})-(\d{2})\b/g))
    found.push({ text: m[0], iso: iso(+m[1]!, +m[2]!, +m[3]!), line });
  for (const m of line.matchAll(/\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b/g)) {
    const [a, b, y] = [+m[1]!, +m[2]!, +m[3]!];
    // 28.11.2026 or 11/28/2026 is clear; 05/06/2026 could be May 6 or June 5: no ISO form.
    const value = a > 12 ? iso(y, b, a) : b > 12 ? iso(y, a, b) : a === b ? iso(y, a, b) : null;
    found.push({ text: m[0], iso: value, line });
  }
  const month = (s: string) => MONTHS.indexOf(s.slice(0, 3).toLowerCase()) + 1;
  for (const m of line.matchAll(/\b(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})\b/g)) {
    if (month(m[2]!) > 0) found.push({ text: m[0], iso: iso(+m[3]!, month(m[2]!), +m[1]!), line });
  }
  for (const m of line.matchAll(/\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\b/g)) {
    if (month(m[1]!) > 0) found.push({ text: m[0], iso: iso(+m[3]!, month(m[1]!), +m[2]!), line });
  }
  return found;
}

/** The last amount on the first line whose words match `label` (and not `not`, when given). */
function labelled(lines: string[], label: RegExp, not?: RegExp): Amount | null {
  for (const line of lines) {
    if (!label.test(line) || (not && not.test(line))) continue;
    const amounts = amountsIn(line);
    if (amounts.length) return amounts[amounts.length - 1]!;
  }
  return null;
}

/** Extract the total, subtotal, tax, every amount and every date from OCR text (one line per text line). */
export function extractFields(text: string): Extracted {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const amounts = lines.flatMap(amountsIn);
  // "Total" but not "Subtotal"/"Sub total"; OCR often drops spaces ("TOTAL$13.77"), so no word boundary after it.
  const totalLine = labelled(lines, /\b(grand\s*)?total|amount\s*due|balance\s*due/i, /sub\s*-?\s*total/i);
  const largest = amounts.reduce<Amount | null>((best, a) => (best === null || a.value > best.value ? a : best), null);
  return {
    total: totalLine ?? largest,
    total_source: totalLine ? "total line" : largest ? "largest amount" : null,
    subtotal: labelled(lines, /sub\s*-?\s*total/i),
    tax: labelled(lines, /\b(tax|vat|gst)\b/i),
    amounts,
    dates: lines.flatMap(datesIn),
  };
}
