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
