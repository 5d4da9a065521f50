/**
 * Checks that a schema cannot express, with the original example's messages, answered as flash's 422 body
 * (`{error: "validation", message, detail: [{loc, msg, type, input}]}`, the same shape as schema failures).
 */

import { type FieldProblem, validationError } from "flash";

export type { FieldProblem };

/**
 * flash's 422 helper, under the name these examples use. It returns the 422 Response; it is typed `never` because
 * Elysia types a hook's return against the 200 schema only, so the hooks that return it need no cast.
 */
export const invalid = validationError as (problems: FieldProblem[]) => never;

/** Text length in code points, as Python's `len()` counts it (an emoji is one character, not two). */
export function charLength(text: string): number {
  return Array.from(text).length;
}

/** The original's text validator, checked in order on the raw string; returns the message, or null when valid. */
export function textProblem(text: string): string | null {
  if (text.trim() === "") return "Text cannot be empty";
  const length = charLength(text);
  if (length < 3) return 'Text too short (minimum 3 characters). Example: {"text": "Hello world"}';
  if (length > 10_000) return `Text too long (maximum 10,000 characters). Got ${length} characters.`;
  return null;
}

/** A 422 for `body.text` when it fails the text validator, else undefined (for a route's `beforeHandle`). */
export function checkText({ body }: { body: { text: string } }): Response | undefined {
  const msg = textProblem(body.text);
  return msg ? invalid([{ loc: ["body", "text"], msg, input: body.text }]) : undefined;
}
