import type { WireError } from "./protocol";

/**
 * An error thrown by a remote function (or by the machinery around it: timeout, crashed worker), as the
 * caller sees it. `statusOf()` maps `remoteName` InputError/ValueError, or a 4xx `status`, to HTTP 400.
 */
export class RemoteError extends Error {
  override name = "RemoteError";
  /** The remote error's class name (`InputError`, `TypeError`, `TimeoutError`…). */
  readonly remoteName: string;
  /** The remote error's stack, as printed where it ran. */
  readonly remoteStack?: string;
  /** The remote function (or `Class.method`) that failed. */
  readonly functionName: string;
  /** The HTTP status the remote error carried, if any (an `InputError` carries 400). */
  readonly status?: number;

  constructor(functionName: string, error: WireError) {
    super(error.message);
    this.functionName = functionName;
    this.remoteName = error.name || "Error";
    this.remoteStack = error.stack;
    if (typeof error.status === "number") this.status = error.status;
    this.stack = `${this.remoteName}: ${error.message}\n    in remote function ${functionName}${error.stack ? `\n${stackFrames(error.stack)}` : ""}`;
  }
}

function stackFrames(stack: string): string {
  // The remote stack starts with its own "Name: message" line; keep only the frames.
  return stack
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .join("\n");
}

/** Turn anything thrown into a `WireError`, keeping a numeric 4xx/5xx `status` when it has one. */
export function toWireError(err: unknown): WireError {
  const e = err as Record<string, unknown> | null;
  const isObj = !!e && typeof e === "object";
  const name = isObj && typeof e.name === "string" ? e.name : "Error";
  const message = isObj && typeof e.message === "string" ? e.message : String(err);
  const out: WireError = { name, message };
  if (isObj && typeof e.stack === "string") out.stack = e.stack;
  const status = isObj ? Number(e.status ?? e.statusCode) : NaN;
  if (Number.isInteger(status) && status >= 400 && status < 600) out.status = status;
  return out;
}
