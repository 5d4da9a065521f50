/** Checks that arguments and results are JSON values, with errors that say which function and which value. */

/**
 * Why `value` is not a JSON value, as `path: reason`, or null when it is one. Plain objects and arrays of
 * strings, finite numbers, booleans and null pass; `undefined` object properties pass too (JSON drops them).
 */
function jsonProblem(value: unknown, path: string, seen: Set<object> = new Set()): string | null {
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return Number.isFinite(value) ? null : `${path} is ${value} (JSON has no NaN or Infinity)`;
    case "undefined":
      return `${path} is undefined`;
    case "bigint":
      return `${path} is a BigInt (convert it to a string or number)`;
    case "function":
      return `${path} is a function`;
    case "symbol":
      return `${path} is a symbol`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return `${path} is a circular reference`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const p = jsonProblem(obj[i], `${path}[${i}]`, seen);
        if (p) return p;
      }
      return null;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj as { constructor?: { name?: string } }).constructor?.name || "object";
      return `${path} is a ${kind} (only plain objects, arrays, strings, numbers, booleans and null)`;
    }
    for (const key of Object.keys(obj)) {
      const v = (obj as Record<string, unknown>)[key];
      if (v === undefined) continue;
      const p = jsonProblem(
        v,
        `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`,
        seen,
      );
      if (p) return p;
    }
    return null;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Throw a TypeError naming the function and the offending argument when `args` are not JSON values.
 * Trailing `undefined` arguments are dropped (optional parameters left out) and the rest is returned.
 */
export function checkArgs(args: unknown[], functionName: string, label = "argument"): unknown[] {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  const kept = end === args.length ? args : args.slice(0, end);
  for (let i = 0; i < kept.length; i++) {
    const problem = jsonProblem(kept[i], `${label} ${i + 1}`);
    if (problem) throw new TypeError(`${functionName}: ${problem}; remote functions take and return JSON values`);
  }
  return kept;
}

/** Throw a TypeError naming the function when its result is not a JSON value (`undefined` becomes null). */
export function checkResult(result: unknown, functionName: string): unknown {
  if (result === undefined) return null;
  const problem = jsonProblem(result, "its result");
  if (problem) throw new TypeError(`${functionName}: ${problem}; remote functions take and return JSON values`);
  return result;
}
