/** Small helpers of the worker program that load nothing else (the loop starts before the executor loads). */

/** Add query parameters to a platform URL that may or may not already have a query string. */
export function withQuery(url: string, params: Record<string, string>): string {
  const q = new URLSearchParams(params).toString();
  return q ? `${url}${url.includes("?") ? "&" : "?"}${q}` : url;
}

/** A line on the worker's stderr (the platform's log), tagged with the worker id. */
export const say = (line: string) =>
  process.stderr.write(`[flash worker ${process.env.RUNPOD_POD_ID ?? ""}] ${line}\n`);
