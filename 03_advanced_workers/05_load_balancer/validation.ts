/**
 * Checks that a schema cannot express, with the original example's messages, answered as flash's 422 body
 * (`{error: "validation", message, detail: [{loc, msg, type, input}]}`, the same shape as schema failures).
 */

/** One field that failed a check. */
export interface FieldProblem {
  loc: (string | number)[];
  msg: string;
  input: unknown;
}

/** A 422 response in flash's validation format for the given problems. */
export function invalid(problems: FieldProblem[]): Response {
  const detail = problems.map((p) => ({ loc: p.loc, msg: p.msg, type: "value_error", input: p.input }));
  const message = detail.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("; ");
  return new Response(JSON.stringify({ error: "validation", message, detail }), {
    status: 422,
    headers: { "content-type": "application/json" },
  });
}
