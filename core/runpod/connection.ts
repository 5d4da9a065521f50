/** Where the Runpod client connects, and with which key (env or `.env`, loaded by `flash run`). */
import { setting } from "../base/settings";

/** Base URLs of the three Runpod planes; each overridable, which is how the emulator target points the client at itself. */
export interface RunpodUrls {
  /** GraphQL control plane base (`${apiBaseUrl}/graphql`); env RUNPOD_API_BASE_URL. */
  apiBaseUrl: string;
  /** Queue data plane (`${endpointBaseUrl}/{id}/run`); env RUNPOD_ENDPOINT_BASE_URL. */
  endpointBaseUrl: string;
  /** Load-balanced endpoints, with `{id}` in place of the endpoint id; env RUNPOD_LB_BASE_URL. */
  lbBaseUrl: string;
}

/** The URLs from the environment, defaulting to production Runpod. */
export function runpodUrls(env: Record<string, string | undefined> = process.env): RunpodUrls {
  const trim = (u: string) => u.replace(/\/+$/, "");
  return {
    apiBaseUrl: trim(setting("RUNPOD_API_BASE_URL", env)!),
    endpointBaseUrl: trim(setting("RUNPOD_ENDPOINT_BASE_URL", env)!),
    lbBaseUrl: trim(setting("RUNPOD_LB_BASE_URL", env)!),
  };
}

/** The URL of a load-balanced endpoint's route. */
export function lbUrl(urls: RunpodUrls, endpointId: string, path: string): string {
  return `${urls.lbBaseUrl.replaceAll("{id}", endpointId)}${path.startsWith("/") ? path : `/${path}`}`;
}

/** The user's API key, or an error that says where to create one. */
export function requireApiKey(env: Record<string, string | undefined> = process.env): string {
  const key = setting("RUNPOD_API_KEY", env)?.trim();
  if (!key) {
    throw new Error(
      "RUNPOD_API_KEY is not set. Create an API key at https://console.runpod.io/user/settings (API Keys), then put " +
        "RUNPOD_API_KEY=... in the workspace's .env file or export it. (Use --target emulator to try everything offline.)",
    );
  }
  return key;
}
