/**
 * Checks that a schema cannot express, with the original example's messages, answered as flash's 422 body
 * (`{error: "validation", message, detail: [{loc, msg, type, input}]}`, the same shape as schema failures).
 */

import { validationError as invalid } from "flash";

// flash's 422 helper, under the name these examples use.
export { invalid };
export type { FieldProblem } from "flash";
