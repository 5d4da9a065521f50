/** Where the Runpod client connects, and with which key (env or `.env`, then `~/.runpod/config.toml`). */
import { setting } from "../base/settings";
import { findApiKey } from "./credentials";

/** Base URLs of the three Runpod planes; each overridable, which is how the emulator target points the client at itself. */
export interface RunpodUrls {
  /** GraphQL control plane base (`${apiBaseUrl}/graphql`); env RUNPOD_API_BASE_URL. */
  apiBaseUrl: string;
  /** Queue data plane (`${endpointBaseUrl}/{id}/run`); env RUNPOD_ENDPOINT_BASE_URL. */
  endpointBaseUrl: string;
  /** Load-balanced endpoints, with `{id}` in place of the endpoint id; env RUNPOD_LB_BASE_URL. */
  lbBaseUrl: string;
}

/**
 * The URLs from the environment, defaulting to production Runpod. `FLASH_RUNPOD_URL` (a running `flash emulator`)
 * stands for all three, laid out as the emulator serves them; a URL set on its own still wins.
 */
export function runpodUrls(env: Record<string, string | undefined> = process.env): RunpodUrls {
  const trim = (u: string) => u.replace(/\/+$/, "");
  const emulator = env.FLASH_RUNPOD_URL?.trim() ? trim(env.FLASH_RUNPOD_URL.trim()) : undefined;
  const pick = (
    name: "RUNPOD_API_BASE_URL" | "RUNPOD_ENDPOINT_BASE_URL" | "RUNPOD_LB_BASE_URL",
    fromEmulator: string,
  ) => trim(env[name]?.trim() || (emulator ? fromEmulator : setting(name, env)!));
  return {
    apiBaseUrl: pick("RUNPOD_API_BASE_URL", `${emulator}`),
    endpointBaseUrl: pick("RUNPOD_ENDPOINT_BASE_URL", `${emulator}/v2`),
    lbBaseUrl: pick("RUNPOD_LB_BASE_URL", `${emulator}/lb/{id}`),
  };
}

/** The URL of a load-balanced endpoint's route. */
export function lbUrl(urls: RunpodUrls, endpointId: string, path: string): string {
  return `${urls.lbBaseUrl.replaceAll("{id}", endpointId)}${path.startsWith("/") ? path : `/${path}`}`;
}

/** The next step when no key is found, for commands without `--target` (deploy, app, env, logs, doctor). */
const EMULATOR_HINT =
  "To try everything offline: run flash emulator, then set the FLASH_RUNPOD_URL and RUNPOD_API_KEY it prints.";

/**
 * The user's API key (environment or `.env`, then `~/.runpod/config.toml`), or an error that says how to get one.
 * `hint` is the caller's way to go offline (`--target emulator` for `flash run`; EMULATOR_HINT elsewhere).
 */
export function requireApiKey(env: Record<string, string | undefined> = process.env, hint = EMULATOR_HINT): string {
  const found = findApiKey(env);
  if (!found) {
    throw new Error(
      "No Runpod API key: RUNPOD_API_KEY is not set and ~/.runpod/config.toml has none. Run flash login, or create " +
        "a key at https://console.runpod.io/user/settings (API Keys) and put RUNPOD_API_KEY=... in the workspace's " +
        `.env file or export it. ${hint}`,
    );
  }
  return found.key;
}
