/**
 * worker/deploy-start.js, whitespace-minified and base64-encoded for a deployed template's FLASH_DEPLOY_START. Kept
 * apart from core/runpod/worker-program.ts: the worker program imports the manifest module, and must not reach the
 * worker-program bundling (its build-time macro would bundle the worker program again, recursively).
 */
import deployStartSource from "../../worker/deploy-start.js" with { type: "text" };

let encoded: string | undefined;

/** The launcher, base64 (stable bytes for the same source: the template hash depends on it). */
export function deployStartBase64(): string {
  encoded ??= Buffer.from(
    new Bun.Transpiler({ loader: "js", minifyWhitespace: true }).transformSync(deployStartSource),
  ).toString("base64");
  return encoded;
}
