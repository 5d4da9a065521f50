import { log } from "./log";

/** An error caused by the caller's input; routes answer it with HTTP 400 (`ValueError` in runpod/flash (Python)). */
export class InputError extends Error {
  override name = "InputError";
  readonly status = 400;
}

/** One field-level validation failure, FastAPI-shaped (`loc`, `msg`, `type`, `input`). */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
}

/** JSON body of a 422: the fields at fault and a readable message. */
export function validationBody(error: any): { error: "validation"; message: string; detail: FieldError[] } {
  const on: string = error?.type ?? "body";
  const entries: any[] = safeAll(error);
  const detail: FieldError[] = entries.map((e) => {
    const path: string[] = String(e.path ?? "")
      .split(/[/.]/)
      .filter(Boolean);
    const custom = e.schema?.error ?? e.schema?.message;
    const msg = typeof custom === "string" ? custom : String(e.summary ?? e.message ?? "Invalid value");
    return {
      loc: [on, ...path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))],
      msg,
      type: schemaType(e),
      input: inputPreview(e.value),
    };
  });
  if (detail.length === 0) {
    detail.push({
      loc: [on],
      msg: typeof error?.customError === "string" ? error.customError : "Invalid request",
      type: "invalid",
    });
  }
  return fieldErrorsBody(detail);
}

/** Longest input echoed in an error, in characters of JSON: a 50 MB request must not get a 50 MB 422. */
const MAX_ECHOED_INPUT = 200;

/**
 * What a 422 echoes of an invalid value: the value when its JSON is short; a long string cut with its length; a
 * large array or object described by its size (measured without walking more than the limit).
 */
function inputPreview(value: unknown, limit = MAX_ECHOED_INPUT): unknown {
  if (typeof value === "string") {
    return value.length <= limit ? value : `${value.slice(0, limit)}… (${value.length} characters)`;
  }
  if (value === null || typeof value !== "object") return value;
  if (jsonFits(value, limit)) return value;
  if (Array.isArray(value)) return `[an array of ${value.length} items, not shown]`;
  return `{an object with ${Object.keys(value).length} keys, not shown}`;
}

/** Whether `value`'s JSON is at most about `limit` characters, visiting no more than `limit` values to find out. */
function jsonFits(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v !== null && typeof v === "object") {
      const keys = Array.isArray(v) ? null : Object.keys(v);
      size += 2 + (keys ? keys.length : (v as unknown[]).length); // brackets and commas
      if (size > limit) return false;
      if (keys) for (const k of keys) stack.push(k, (v as Record<string, unknown>)[k]);
      else for (const item of v as unknown[]) stack.push(item);
    } else {
      size += typeof v === "string" ? v.length + 2 : String(v).length;
      if (size > limit) return false;
    }
  }
  return true;
}

function fieldErrorsBody(detail: FieldError[]): { error: "validation"; message: string; detail: FieldError[] } {
  const message = detail.map((d) => `${d.loc.join(".")}: ${d.msg}`).join("; ");
  return { error: "validation", message, detail };
}

/** A field that failed a check that a schema cannot express (cross-field rules, the exact messages of runpod/flash (Python)). */
export interface FieldProblem {
  loc: (string | number)[];
  msg: string;
  input?: unknown;
  type?: string;
}

/** A 422 in flash's validation format for checks done in a handler or `beforeHandle` (same shape as schema failures). */
export function validationError(problems: FieldProblem[]): Response {
  const detail = problems.map((p) => ({
    loc: p.loc,
    msg: p.msg,
    type: p.type ?? "value_error",
    input: inputPreview(p.input),
  }));
  return json(fieldErrorsBody(detail), 422);
}

function safeAll(error: any): any[] {
  try {
    const all = error?.all;
    return Array.isArray(all) ? all : [];
  } catch {
    return []; // a validator that cannot enumerate its errors still yields one generic entry
  }
}

function schemaType(entry: any): string {
  const t = entry?.schema?.type;
  return typeof t === "string" ? `expected_${t}` : "invalid";
}

/** HTTP status for an error thrown by a route or a remote function: 4xx from `status`, input errors 400, else 500. */
export function statusOf(error: unknown): number {
  const e = error as Record<string, any> | null;
  const status = Number(e?.status ?? e?.statusCode);
  if (Number.isInteger(status) && status >= 400 && status < 600) return status;
  const name = e?.remoteName ?? e?.name;
  if (name === "InputError" || name === "ValueError") return 400;
  return 500;
}

/** JSON body for an error thrown by a route: the message for 4xx; for 5xx a generic one and a request id (details in the log). */
export function errorBody(
  error: unknown,
  status: number,
  where: string,
): { error: string; message: string; request_id?: string } {
  const message = String((error as Error)?.message ?? error).slice(0, 500);
  if (status < 500) return { error: "bad_request", message };
  // Internal messages can carry file paths, hosts or data: the client gets an id to find them in the server log.
  const requestId = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  log.error(`${where} [request ${requestId}]: ${(error as Error)?.stack ?? message}`);
  return {
    error: "internal_error",
    message: `Processing failed; the server log has the details under request ${requestId}`,
    request_id: requestId,
  };
}

/** The JSON 404 every unknown route gets. */
export function notFoundBody(method: string, path: string): { error: "not_found"; message: string; path: string } {
  return { error: "not_found", message: `No route for ${method} ${path}`, path };
}

/** A JSON response with a status. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
