/**
 * Every environment variable flash reads or sets, named once with its default and meaning. User settings are
 * read through `setting()`; the README's table is generated from `USER_SETTINGS` (a test keeps them equal).
 * Variables that flash or Runpod set for a worker are listed too, so nothing is read that is not named here.
 */

/** One environment variable. `scope`: `user` (a person sets it), `worker` (flash sets it for its workers), or
 * `platform` (Runpod sets it inside a worker; https://docs.runpod.io/serverless/workers/handler-functions), or
 * `tool` (another Runpod tool reads it; `flash emulator` prints it so that tool reaches the emulator). */
interface SettingSpec {
  name: string;
  default?: string;
  meaning: string;
  scope: "user" | "worker" | "platform" | "tool";
}

const SETTINGS = [
  // ── flash run and the dev server ──
  { name: "FLASH_HOST", default: "localhost", meaning: "host `flash run` listens on (`--host`)", scope: "user" },
  {
    name: "FLASH_PORT",
    default: "8888",
    meaning: "port `flash run` listens on; 0 picks a free one (`--port`)",
    scope: "user",
  },
  {
    name: "FLASH_MAX_BODY",
    default: "32MiB",
    meaning: "largest request body; a larger one gets a 413 (`--max-body`)",
    scope: "user",
  },
  {
    name: "FLASH_TARGET",
    default: "local",
    meaning: "where `remote()` functions run: local, runpod or emulator (`--target`)",
    scope: "user",
  },
  {
    name: "FLASH_LOG_LEVEL",
    default: "3",
    meaning: "consola log level: 1 warnings and errors, 3 info, 4 debug",
    scope: "user",
  },
  {
    name: "FLASH_LOCAL_WORKERS",
    meaning:
      "force every local pool's workers to `thread` (threads of the server: a few µs faster per call, but a crash, OOM or `process.exit` takes the server down) or `process` (default: each worker its own process)",
    scope: "user",
  },
  // ── the runpod and emulator targets ──
  {
    name: "RUNPOD_API_KEY",
    meaning: "your Runpod API key (never logged or returned); else `~/.runpod/config.toml`, as `flash login` saves it",
    scope: "user",
  },
  {
    name: "FLASH_RUNPOD_URL",
    meaning:
      "a running `flash emulator`: deploy, app, env, logs, doctor and login talk to it (one URL for the three below)",
    scope: "user",
  },
  {
    name: "FLASH_RELEASE_URL",
    default: "https://github.com/flash-sh/flash/releases/latest/download",
    meaning: "where `flash upgrade` fetches the release binary and its SHA256SUMS (`--from`)",
    scope: "user",
  },
  {
    name: "FLASH_UPGRADE_BINARY",
    meaning: "the file `flash upgrade` replaces (default: the running binary)",
    scope: "user",
  },
  {
    name: "FLASH_MOTHERSHIP_API_KEY",
    meaning: "the key `flash deploy` gives the app's mothership (a Restricted key is enough); default RUNPOD_API_KEY",
    scope: "user",
  },
  {
    name: "RUNPOD_API_BASE_URL",
    default: "https://api.runpod.io",
    meaning: "Runpod control-plane host (REST v2 at `/v2`, GraphQL at `/graphql`)",
    scope: "user",
  },
  {
    name: "RUNPOD_ENDPOINT_BASE_URL",
    default: "https://api.runpod.ai/v2",
    meaning: "Runpod serverless REST base",
    scope: "user",
  },
  {
    name: "RUNPOD_LB_BASE_URL",
    default: "https://{id}.api.runpod.ai",
    meaning: "load-balanced endpoint URL pattern",
    scope: "user",
  },
  {
    name: "RUNPOD_DEFAULT_LOCATIONS",
    meaning: "data centers for new endpoints (comma list; default: any)",
    scope: "user",
  },
  { name: "RUNPOD_DEFAULT_DATACENTER", meaning: "older name of RUNPOD_DEFAULT_LOCATIONS", scope: "user" },
  {
    name: "FLASH_WORKER_IMAGE",
    meaning: "one flash worker image (built from worker/Dockerfile.*) for every endpoint",
    scope: "user",
  },
  {
    name: "FLASH_WORKER_IMAGE_GPU",
    meaning: "flash worker image for GPU endpoints (default: a public CUDA image + bootstrap)",
    scope: "user",
  },
  {
    name: "FLASH_WORKER_IMAGE_CPU",
    meaning: "flash worker image for CPU endpoints (default: oven/bun + bootstrap)",
    scope: "user",
  },
  {
    name: "FLASH_RUNPOD_DISPATCH",
    default: "auto",
    meaning: "how calls are sent: auto, runsync or poll (/run + status)",
    scope: "user",
  },
  {
    name: "FLASH_RUNPOD_QUEUE_TIMEOUT_S",
    default: "600",
    meaning: "give up on a call still queued after this many seconds",
    scope: "user",
  },
  {
    name: "FLASH_EMULATOR_APT",
    default: "check",
    meaning: "`install` lets emulated workers apt-get install on this machine",
    scope: "user",
  },
  {
    name: "FLASH_WORKER_CACHE",
    default: ".flash/worker-cache",
    meaning: "where workers keep npm packages and shipped code",
    scope: "user",
  },
  {
    name: "FLASH_VOLUMES_DIR",
    default: ".flash/volumes",
    meaning: "where the local pool and the emulator keep network volumes (a folder per volume name)",
    scope: "user",
  },
  // ── release ──
  {
    name: "FLASH_RELEASE_CACHE",
    default: "~/.cache/flash-release",
    meaning: "where `bun run release` keeps Bun runtimes",
    scope: "user",
  },
  {
    name: "FLASH_BINARY_PATH",
    meaning: "the npm launcher runs this flash binary instead of its platform package's",
    scope: "user",
  },
  // ── set by flash for its workers ──
  { name: "FLASH_WORKER", meaning: "1 inside a local pool worker (remote() returns plain functions)", scope: "worker" },
  { name: "FLASH_WORKER_ID", meaning: "number of a local pool worker", scope: "worker" },
  { name: "FLASH_RESOURCE_NAME", meaning: "the config name of a local pool worker's pool", scope: "worker" },
  {
    name: "FLASH_PRELOAD",
    meaning: "modules a local pool worker imports while warming up (JSON list)",
    scope: "worker",
  },
  {
    name: "FLASH_VOLUME_NAME",
    meaning: "the NetworkVolume a worker's endpoint mounts (`volume.path` checks it)",
    scope: "worker",
  },
  {
    name: "FLASH_VOLUME_PATH",
    meaning: "local pool workers and mapped emulator commands: the volume's folder, in place of /runpod-volume",
    scope: "worker",
  },
  {
    name: "FLASH_CONTAINER_ROOT",
    meaning: "emulator containers only: the folder standing for the container's `/` (prefixes container paths)",
    scope: "worker",
  },
  {
    name: "FLASH_BUN_RELEASES_URL",
    meaning: "emulator containers only: where the Bun installer downloads releases (instead of GitHub)",
    scope: "worker",
  },
  {
    name: "FLASH_DEPLOY_START",
    meaning: "the launcher a deployed template's start command runs: unpacks or fetches the build (base64)",
    scope: "worker",
  },
  {
    name: "FLASH_BUNDLING_MOTHERSHIP",
    meaning: "set while the build bundles the mothership runtime (stops the bundling macro from nesting)",
    scope: "worker",
  },
  {
    name: "FLASH_ARTIFACT_WAIT_MS",
    default: "30000",
    meaning: "deployed workers: pause between the 3 looks for the mounted artifact",
    scope: "worker",
  },
  {
    name: "FLASH_DOCTOR_WORKER",
    meaning: "the doctor's bare stream-probe worker (base64 JavaScript) that its endpoint's start command runs",
    scope: "worker",
  },
  { name: "FLASH_PARENT_PID", meaning: "the server a process worker must not outlive", scope: "worker" },
  {
    name: "FLASH_MAX_CONCURRENCY",
    meaning:
      "how many jobs a Runpod worker runs at once (a config's maxConcurrency; runpod-python's concurrency_modifier)",
    scope: "worker",
  },
  { name: "FLASH_EMULATOR_PID", meaning: "the emulator an emulated Runpod worker must not outlive", scope: "worker" },
  {
    name: "FLASH_WORKER_MODE",
    meaning: "queue or lb: the Runpod worker's mode (marks a flash-managed template)",
    scope: "worker",
  },
  { name: "FLASH_APP", meaning: "the Flash app a deployed endpoint belongs to (flash deploy)", scope: "worker" },
  { name: "FLASH_ENVIRONMENT", meaning: "the Flash environment a deployed endpoint belongs to", scope: "worker" },
  {
    name: "FLASH_ENVIRONMENT_ID",
    meaning: "id of that environment (the mothership finds the app's endpoints through it)",
    scope: "worker",
  },
  {
    name: "FLASH_SOURCE_FINGERPRINT",
    meaning: "sha256 of the code a deployed resource imports (a change rolls its workers)",
    scope: "worker",
  },
  { name: "FLASH_IS_MOTHERSHIP", meaning: "true on the deployed app's load-balanced mothership", scope: "worker" },
  {
    name: "FLASH_ENDPOINTS",
    meaning: "the mothership's map of the app's endpoints, endpoint name → id (JSON), set by `flash deploy`",
    scope: "worker",
  },
  {
    name: "FLASH_BUILD_ARTIFACT_PATH",
    default: "/root/.runpod/artifact.tar.gz",
    meaning: "where a deployed worker finds the environment's artifact (worker-flash unpack_volume.py)",
    scope: "platform",
  },
  {
    name: "RUNPOD_APP_DIR",
    default: "/app",
    meaning: "where a deployed worker unpacks the artifact",
    scope: "platform",
  },
  {
    name: "RUNPOD_ARTIFACT_WAIT",
    default: "300",
    meaning: "seconds a deployed worker waits for the artifact to be mounted",
    scope: "platform",
  },
  {
    name: "FLASH_WORKSPACE",
    meaning: "id of the workspace that created a Runpod template (adoption proof)",
    scope: "worker",
  },
  {
    name: "FLASH_BOOTSTRAP",
    meaning: "the bootstrap program a stock image's start command runs (base64)",
    scope: "worker",
  },
  { name: "FLASH_INSTALL_BUN", meaning: "installs bun on a GPU image that lacks it (start command)", scope: "worker" },
  { name: "FLASH_WORKER_HASH", meaning: "content hash of the worker program a bootstrap expects", scope: "worker" },
  {
    name: "FLASH_WORKER_APT",
    default: "install",
    meaning: "`check` makes a Runpod worker only check apt packages",
    scope: "worker",
  },
  {
    name: "FLASH_WORKER_MAX_BUNDLES",
    default: "32",
    meaning: "shipped bundles a Runpod worker loads before it asks to be replaced",
    scope: "worker",
  },
  { name: "FLASH_COMMIT", meaning: "commit stamped into release binaries (`--define`)", scope: "worker" },
  // ── set by Runpod inside a worker ──
  { name: "RUNPOD_POD_ID", meaning: "the worker's id", scope: "platform" },
  { name: "RUNPOD_ENDPOINT_ID", meaning: "the worker's endpoint", scope: "platform" },
  { name: "RUNPOD_POD_HOSTNAME", meaning: "the worker's host name", scope: "platform" },
  { name: "RUNPOD_GPU_COUNT", meaning: "GPUs given to the worker", scope: "platform" },
  { name: "RUNPOD_AI_API_KEY", meaning: "the key a worker uses on the worker routes", scope: "platform" },
  { name: "RUNPOD_PING_INTERVAL", meaning: "heartbeat interval, ms", scope: "platform" },
  { name: "RUNPOD_WEBHOOK_GET_JOB", meaning: "job-take URL", scope: "platform" },
  { name: "RUNPOD_WEBHOOK_POST_OUTPUT", meaning: "job-done URL", scope: "platform" },
  { name: "RUNPOD_WEBHOOK_POST_STREAM", meaning: "job-stream URL", scope: "platform" },
  { name: "RUNPOD_WEBHOOK_PING", meaning: "heartbeat URL", scope: "platform" },
  { name: "RUNPOD_WEBHOOK_JOB_STOP", meaning: "per-job stop channel URL", scope: "platform" },
  // ── read by runpodctl (github.com/runpod/runpodctl internal/api/client.go), printed by `flash emulator` ──
  { name: "RUNPOD_API_URL", meaning: "runpodctl's REST base", scope: "tool" },
  { name: "RUNPOD_GRAPHQL_URL", meaning: "runpodctl's GraphQL URL", scope: "tool" },
] as const satisfies readonly SettingSpec[];

/** The name of a variable flash knows. */
export type SettingName = (typeof SETTINGS)[number]["name"];

/** Every variable, in table order. */
export const ALL_SETTINGS: readonly SettingSpec[] = SETTINGS;

/** The variables a person sets. */
const USER_SETTINGS: readonly SettingSpec[] = SETTINGS.filter((s) => s.scope === "user");

const BY_NAME = new Map<string, SettingSpec>(SETTINGS.map((s) => [s.name, s]));

/** A variable's value: the environment's (empty counts as unset), else its default, else undefined. */
export function setting(name: SettingName, env: Record<string, string | undefined> = process.env): string | undefined {
  const value = env[name];
  if (value !== undefined && value !== "") return value;
  return BY_NAME.get(name)?.default;
}

/** The README's table of user settings (markdown), generated so the two cannot drift. */
export function settingsTable(): string {
  const rows = USER_SETTINGS.map((s) => `| \`${s.name}\` | ${s.default ? `\`${s.default}\`` : ""} | ${s.meaning} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}
