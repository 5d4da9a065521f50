/**
 * What a worker process gets from the emulated platform: the `RUNPOD_*` variables of Runpod's worker protocol, how
 * a template is started (a container of an image the emulator models, a command the user mapped to the image, or
 * nothing: an external worker attaches), and the host environment a local process needs. Shared by the supervisor
 * (which spawns) and `flash emulator` (which prints the variables for workers the user starts).
 */
import { resolveSecrets } from "../base/secrets";
import { resolve } from "node:path";
import { setting } from "../base/settings";
import type { EmulatedEndpoint, EmulatedTemplate } from "./control-plane";
import { type ImageModel, imageModel } from "./images";

/**
 * The environment every worker of an emulator for the workspace at `root` gets from flash: its dependency and
 * program cache (FLASH_WORKER_CACHE, relative to the workspace), kept across emulator runs.
 */
export function workspaceWorkerEnv(
  root: string,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  return { FLASH_WORKER_CACHE: resolve(root, setting("FLASH_WORKER_CACHE", env)!) };
}

/** How the workers of a template start. */
export type Launch =
  /** A container of a modelled image: `sh -c` of the template's start command, else the image's own command. */
  | { kind: "container"; image: ImageModel; argv: string[] }
  /** A local command the user mapped to the template's image (`flash emulator --image img=cmd`). */
  | { kind: "mapped"; argv: string[] }
  /** Nothing is started: any worker that speaks the protocol attaches with the printed environment. */
  | { kind: "external" };

/** What decides a template's launch. */
export interface LaunchOptions {
  /** Image → local command: a string runs through `sh -c`, an array as is. Matches `repo:tag`, then `repo`. */
  images?: Record<string, string | string[]>;
}

/**
 * A template's env as a record, with each secret reference (`{{ RUNPOD_SECRET_name }}`) replaced as Runpod does at
 * container start (docs pods/templates/secrets); the emulator's own environment stands in for the account's secrets.
 */
export function templateEnv(template: EmulatedTemplate | undefined): Record<string, string> {
  return resolveSecrets(Object.fromEntries((template?.env ?? []).map((v) => [v.key, v.value])));
}

/**
 * How to start a template's workers, as Runpod does: the template's start command (`dockerArgs`, "overrides the
 * container's default start command": docs sdks/graphql/configurations.mdx; the backend splits it into the
 * container's command, runpodctl pull request #314) run by the image's shell, else the image's own command. Only
 * images the catalog models (images.ts) get a container; a mapped image runs the user's command instead.
 */
export function launchOf(template: EmulatedTemplate | undefined, opts: LaunchOptions): Launch {
  if (!template) return { kind: "external" };
  const mapped = opts.images?.[template.imageName] ?? opts.images?.[template.imageName.replace(/:[^/:]+$/, "")];
  if (mapped !== undefined) return { kind: "mapped", argv: typeof mapped === "string" ? ["sh", "-c", mapped] : mapped };
  const image = imageModel(template.imageName);
  if (!image) return { kind: "external" };
  const start = template.dockerArgs.trim() || image.defaultCommand;
  if (!start) return { kind: "external" };
  return { kind: "container", image, argv: ["sh", "-c", start] };
}

/** Where worker callbacks go, and how often workers ping. */
export interface PlatformEnvOptions {
  /** Base URL of the emulator (`http://127.0.0.1:PORT`). */
  baseUrl: string;
  /** RUNPOD_PING_INTERVAL, ms (Runpod default 10000). */
  pingIntervalMs?: number;
  /** Include the job webhooks (queue workers; LB workers only when asked: not documented; `flash doctor runpod` checks it). */
  webhooks: boolean;
}

/**
 * The `RUNPOD_*` variables Runpod gives a serverless worker (runpod/runpod-python@07fc6e2
 * serverless/modules/{rp_job,rp_http,rp_ping,worker_state}.py read them): the job-take URL with `$ID` for the
 * worker id and a `?` already in it (the SDK appends `&job_in_progress=`), the job-done/stream URLs with
 * `$RUNPOD_POD_ID` and `$ID`, the ping URL, the interval and the worker key (sent raw in `Authorization`).
 * The stop channel has no variable: runpod-python derives it from the job-take URL (`/job-take/` → `/job-stop/`).
 * `workerId` undefined leaves out RUNPOD_POD_ID (an external worker picks its own; runpod-python: a uuid).
 */
export function platformEnv(
  endpoint: EmulatedEndpoint,
  workerId: string | undefined,
  opts: PlatformEnvOptions,
): Record<string, string> {
  const gpu = encodeURIComponent(endpoint.instanceIds?.[0] ?? (endpoint.gpuIds.split(",")[0] || "CPU"));
  const prefix = `${opts.baseUrl}/v2/${endpoint.id}`;
  const env: Record<string, string> = {
    RUNPOD_ENDPOINT_ID: endpoint.id,
    RUNPOD_AI_API_KEY: endpoint.aiKey,
    RUNPOD_GPU_COUNT: String(endpoint.gpuCount),
    RUNPOD_PING_INTERVAL: String(opts.pingIntervalMs ?? 10_000),
    RUNPOD_WEBHOOK_PING: `${prefix}/ping/$RUNPOD_POD_ID?gpu=${gpu}`,
  };
  if (workerId) {
    env.RUNPOD_POD_ID = workerId;
    env.RUNPOD_POD_HOSTNAME = `${workerId}-emulator`;
  }
  if (opts.webhooks) {
    env.RUNPOD_WEBHOOK_GET_JOB = `${prefix}/job-take/$ID?gpu=${gpu}`;
    env.RUNPOD_WEBHOOK_POST_OUTPUT = `${prefix}/job-done/$RUNPOD_POD_ID/$ID?gpu=${gpu}`;
    env.RUNPOD_WEBHOOK_POST_STREAM = `${prefix}/job-stream/$RUNPOD_POD_ID/$ID?gpu=${gpu}`;
  }
  return env;
}

/** Host variables a local process needs to run at all (a container has its image's; we have the host's). */
const HOST_KEYS = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "SHELL", "TERM"];

/**
 * The part of this process's environment a worker process gets: the few variables any program needs, nothing
 * secret and nothing of the user's Runpod settings (a real worker sees only its image's env, the template's and
 * the platform's).
 */
export function hostEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /KEY|TOKEN|SECRET|PASSWORD|AUTH/i.test(key)) continue;
    // Bun's and npm's own settings (cache dirs, registry) decide how a worker installs packages on this machine.
    if (HOST_KEYS.includes(key) || /^(BUN_INSTALL|npm_config_|NPM_CONFIG_)/.test(key)) out[key] = value;
  }
  return out;
}

/** Lines `export K='V'` for a shell, with single quotes escaped. */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`)
    .join("\n");
}
