/** What the commands that work on a deployed app share (deploy, undeploy, app, logs): its name, the Runpod connection, a confirmation, and one way to fail. */
import { loadDotEnvOrExit } from "./_shared";
import { resolve } from "node:path";
import { locateWorkspace } from "../workspace/discovery";

/** The app a command works on: `--app`, else the name `flash deploy` gives the workspace (or scope) here. */
export async function appNameFor(flag: string | undefined, dir?: string): Promise<string> {
  const { root, scope } = locateWorkspace(resolve(dir ?? process.cwd()));
  loadDotEnvOrExit([root]);
  if (flag) return flag;
  const { defaultAppName } = await import("../deploy/discover");
  return defaultAppName(root, scope);
}

/** The connection a command uses: RUNPOD_API_KEY and the Runpod URLs (RUNPOD_API_BASE_URL… for an emulator). */
export async function connection() {
  const { requireApiKey, runpodUrls } = await import("../runpod/connection");
  return { apiKey: requireApiKey(), urls: runpodUrls() };
}

/** Ask a yes/no question at a terminal; false when stdin is not one (nothing changes without consent). */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return false;
  const { log } = await import("../base/log");
  const answer = await log.prompt(question, { type: "confirm", initial: false });
  return answer === true;
}

/** Run a command body: errors become one red line (the API key redacted) and exit 1. */
export async function guarded(what: string, body: () => Promise<void>): Promise<never> {
  const { log } = await import("../base/log");
  const { redact } = await import("../runpod/http");
  try {
    await body();
    process.exit(0);
  } catch (err) {
    const { findApiKey } = await import("../runpod/credentials");
    log.error(`${what} failed: ${redact((err as Error).message, findApiKey()?.key)}`);
    process.exit(1);
  }
}
