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

const DATA_EXAMPLE = 'Example: {"data": [[1, 2], [3, 4]]}';

/** The original's data validator: not empty, at least 2 rows, exactly 2 columns per row. Returns the message or null. */
export function dataProblem(data: number[][]): string | null {
  if (data.length === 0) return "Data cannot be empty";
  if (data.length < 2) return `Need at least 2 rows to compute statistics, got ${data.length}. ${DATA_EXAMPLE}`;
  const bad = data.findIndex((row) => row.length !== 2);
  if (bad >= 0) return `Row ${bad} has ${data[bad]!.length} columns, expected exactly 2. ${DATA_EXAMPLE}`;
  return null;
}
