/**
 * How a resource config becomes a Runpod template + endpoint: the field mapping of runpod/flash (Python), with flash's
 * worker for live configs: a public image plus flash's bootstrap by default, or an image built from worker/.
 */
import { shortHash } from "../base/fs";
import type { ResourceConfig } from "../remote/config";
import type { EndpointInput, TemplateInput } from "./platform";
import { setting } from "../base/settings";
import pkg from "../../package.json" with { type: "json" };

/**
 * The Bun release workers run: the one flash is pinned to (package.json `packageManager`), which the compiled binary
 * embeds, not whatever Bun runs flash from source (a canary or local build has no `oven/bun` tag and no release).
 */
export const WORKER_BUN_VERSION = pkg.packageManager.replace(/^bun@/, "");

/** The CPU image flash uses when none is set: the official Bun image of flash's pinned Bun version. */
export const DEFAULT_CPU_IMAGE = `oven/bun:${WORKER_BUN_VERSION}`;

/**
 * The GPU image flash uses when none is set: Runpod's public PyTorch image on CUDA 12.8.1 (python3 included, which
 * the start command uses to fetch Bun; Runpod hosts often have it cached). flash's own GPU images are CUDA 12.8
 * too, and flash sends `minCudaVersion: "12.8"` with them (runpod/flash commit e693d7d5, #277).
 */
export const DEFAULT_GPU_IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404";

/** The CUDA version the default GPU image (and worker/Dockerfile.gpu) needs from the host driver. */
const DEFAULT_MIN_CUDA = "12.8";

/**
 * The image a config's workers run and whether it is a stock image that needs flash's bootstrap: the config's
 * `imageName`; else FLASH_WORKER_IMAGE_GPU / FLASH_WORKER_IMAGE_CPU for that kind; else FLASH_WORKER_IMAGE (all
 * three: an image built from worker/Dockerfile.*, whose CMD runs the worker); else the public default images.
 */
function workerImage(
  config: ResourceConfig,
  env: Record<string, string | undefined> = process.env,
): { image: string; bootstrap: boolean } {
  if (config.imageName) return { image: config.imageName, bootstrap: false };
  const set =
    setting(config.isGpu ? "FLASH_WORKER_IMAGE_GPU" : "FLASH_WORKER_IMAGE_CPU", env) ??
    setting("FLASH_WORKER_IMAGE", env);
  if (set) return { image: set, bootstrap: false };
  return { image: config.isGpu ? DEFAULT_GPU_IMAGE : DEFAULT_CPU_IMAGE, bootstrap: true };
}

/**
 * The shell line that puts Bun on an image that lacks it (the GPU image): the installer below, and a clear line when
 * it fails (rather than `exec bun` dying with "not found"). Every absolute container path in flash's start commands
 * is written `$FLASH_CONTAINER_ROOT/path`: unset on Runpod (the path is the real one), the emulator sets it to its
 * container's own folder.
 */
export const INSTALL_BUN_LINE =
  `command -v bun >/dev/null 2>&1 || python3 -c "$FLASH_INSTALL_BUN" || ` +
  `{ echo "[flash] installing Bun failed (see above): this image needs python3 and internet access" >&2; exit 1; }; `;

/**
 * The start command of a default-image template (Runpod's "container start command", `dockerArgs` in
 * SaveTemplateInput; runpod-python api/mutations/templates.py): install Bun when the image lacks it (the GPU image),
 * decode the bootstrap from the env and run it. The bootstrap then gets the worker program with the first call.
 * `--no-install`: a package missing on the worker is an error, never a silent download of whatever npm has under
 * that name (Bun auto-installs when it finds no node_modules; npm's `flash` is an unrelated package).
 */
export const BOOTSTRAP_START =
  `sh -c '${INSTALL_BUN_LINE}B="$FLASH_CONTAINER_ROOT/tmp/flash-bootstrap-$$.js"; ` +
  `echo "$FLASH_BOOTSTRAP" | base64 -d > "$B" && exec bun --no-install "$B"'`;

/**
 * Python (in the GPU image) that puts the Bun release of flash's pinned version in /usr/local/bin: the x64
 * "baseline" build (no AVX2 needed), from Bun's GitHub releases, as bun.sh/install fetches it. No curl or unzip
 * needed. The zip is checked against the release's SHASUMS256.txt, as Bun's own image does (oven-sh/bun
 * dockerhub/debian/Dockerfile; it also checks that file's GPG signature, which Python's standard library cannot).
 * With a network volume mounted, the checked binary is kept on it (`.cache/flash-worker/bin/bun-v<version>`, written
 * then renamed) and later cold starts copy it from there instead of downloading it again. FLASH_BUN_RELEASES_URL
 * replaces GitHub's download base: only the emulator sets it, to serve its own copy of the release.
 */
export function installBunPython(version = WORKER_BUN_VERSION): string {
  const n = "bun-linux-x64-baseline";
  return (
    `import hashlib,io,os,sys,urllib.request as u,zipfile as z;` +
    `r=os.environ.get("FLASH_CONTAINER_ROOT","");p=r+"/usr/local/bin/bun";` +
    `k=r+"/runpod-volume/.cache/flash-worker/bin/bun-v${version}" if os.path.isdir(r+"/runpod-volume") else "";` +
    `c=k and os.path.isfile(k);` +
    `d=open(k,"rb").read() if c else None;` +
    `b=(os.environ.get("FLASH_BUN_RELEASES_URL") or "https://github.com/oven-sh/bun/releases/download")+"/bun-v${version}/";` +
    `a=None if c else u.urlopen(b+"${n}.zip").read();h=a and hashlib.sha256(a).hexdigest();` +
    `s=[] if c else u.urlopen(b+"SHASUMS256.txt").read().decode().split();` +
    `c or (h in s and s[s.index(h)+1].lstrip("*")=="${n}.zip") or sys.exit("[flash] ${n}.zip of bun-v${version}: sha256 "+h+" is not the one in SHASUMS256.txt");` +
    `d=d or z.ZipFile(io.BytesIO(a)).read("${n}/bun");` +
    `os.makedirs(os.path.dirname(p),exist_ok=True);f=open(p,"wb");f.write(d);f.close();os.chmod(p,0o755);` +
    `t=k+".%d.tmp"%os.getpid();` +
    `k and not c and (os.makedirs(os.path.dirname(k),exist_ok=True) or open(t,"wb").write(d)) and os.replace(t,k);` +
    `sys.stderr.write("[flash] bun-v${version}: "+("copied from the network volume" if c else "downloaded and checked"+(", kept on the network volume" if k else ""))+"\\n")`
  );
}

/** What flash adds to a template: its own variables (the worker program's hash when it ships it). */
export interface MapOptions {
  /** Dev session: `live-` names. */
  live: boolean;
  /** Marker of the workspace that creates the template (FLASH_WORKSPACE): only marked endpoints are adopted. */
  workspace: string;
  /** Hash of the worker program a default-image template's bootstrap waits for. */
  programHash?: string;
  /** The bootstrap, base64 (FLASH_BOOTSTRAP). */
  bootstrap?: string;
  env?: Record<string, string | undefined>;
  /** The id of the config's network volume when the config gives none (the provisioner found or created it). */
  volumeId?: string;
}

/** The endpoint name: `live-` for dev sessions (idempotent), plus `-fb` with FlashBoot (from the config). */
function endpointName(config: ResourceConfig, live: boolean): string {
  const base = config.endpointName.replace(/^(live-)+/, "");
  return live ? `live-${base}` : base;
}

/** The template and endpoint fields a config sends (no ids: the provisioner adds them). */
export interface Mapped {
  name: string;
  /** None when the config names an existing template (`templateId`, sent as is). */
  template?: Omit<TemplateInput, "id" | "name">;
  endpoint: Omit<EndpointInput, "id" | "templateId"> & { templateId?: string };
  /** The template's image is a stock one that runs flash's bootstrap (calls then carry the worker program). */
  bootstrap: boolean;
}

/** Map a resource config to GraphQL inputs. */
export function mapConfig(config: ResourceConfig, opts: MapOptions): Mapped {
  const env = opts.env ?? process.env;
  const name = endpointName(config, opts.live);
  const { image, bootstrap: stock } = workerImage(config, env);
  const bootstrap = config.isLive && stock;
  const endpoint: Mapped["endpoint"] = {
    name,
    type: config.isLoadBalancer ? "LB" : "QB",
    workersMin: config.workersMin,
    workersMax: config.workersMax,
    idleTimeout: runpodIdleTimeout(config.idleTimeout),
    scalerType: config.scalerType,
    scalerValue: config.scalerValue,
    executionTimeoutMs: config.executionTimeoutMs,
    workersPFBTarget: config.workersPFBTarget,
    // saveEndpoint is a full replace: FlashBoot off must be said ("OFF"), or an existing endpoint keeps it
    // (runpodctl cmd/serverless documents the enum as OFF / FLASHBOOT).
    flashBootType: config.flashboot ? "FLASHBOOT" : "OFF",
  };
  // CPU endpoints carry no GPU fields: flash's serverless_cpu.py drops gpuIds/gpuCount/CUDA so that the API does
  // not reject them, and runpodctl omits them (omitempty).
  if (config.isGpu) {
    endpoint.gpuIds = config.gpuIds;
    endpoint.gpuCount = config.gpuCount;
    if (config.allowedCudaVersions) endpoint.allowedCudaVersions = config.allowedCudaVersions;
    else if (config.isLive && !config.imageName) endpoint.minCudaVersion = DEFAULT_MIN_CUDA;
  } else endpoint.instanceIds = [...config.instanceIds];
  // Only where the user asked (or the volume is): restricting data centers shrinks the GPU pool (docs
  // endpoint-configurations, "Data centers"); current flash defaults datacenter to None (runpod/flash commit
  // 5631c322, #266) and sends a list as one comma-joined `locations` (serverless.py `sync_input_fields`), which the
  // REST v2 body carries as `dataCenterIds` (mapping-v2.ts).
  const locations =
    setting("RUNPOD_DEFAULT_LOCATIONS", env) ??
    setting("RUNPOD_DEFAULT_DATACENTER", env) ??
    (config.locations || undefined);
  if (locations) endpoint.locations = locations;
  // The volume's id (the config's, or the one the provisioner found or created by name); GraphQL EndpointInput
  // takes one volume as `networkVolumeId` (runpod/flash core/resources/serverless.py sends it so).
  const volumeId = config.networkVolume ? (config.networkVolume.id ?? opts.volumeId) : undefined;
  if (volumeId) endpoint.networkVolumeId = volumeId;
  if (config.flashEnvironmentId) endpoint.flashEnvironmentId = config.flashEnvironmentId;
  if (config.templateId) {
    endpoint.templateId = config.templateId; // flash sends templateId as is (serverless.py _payload_exclude)
    return { name, endpoint, bootstrap: false };
  }
  const template: Mapped["template"] = {
    imageName: image,
    containerDiskInGb: config.containerDiskInGb,
    volumeInGb: 0,
    dockerArgs: bootstrap ? BOOTSTRAP_START : "",
    env: toEnvList(templateEnv(config, opts, bootstrap)),
    isServerless: true,
  };
  // A private image is pulled with the account's registry credentials (runpod/flash core/resources/template.py).
  if (config.containerRegistryAuthId) template.containerRegistryAuthId = config.containerRegistryAuthId;
  return { name, template, endpoint, bootstrap };
}

/**
 * Runpod's idleTimeout is a whole number of seconds from 1 to 3600 (GraphQL `Int`; runpod/flash enforces the range:
 * commit 57aebbf4, #287). The local pool accepts fractions (tests use 0.2 s), so the value is rounded into range here.
 */
function runpodIdleTimeout(seconds: number): number {
  return Math.min(3600, Math.max(1, Math.round(seconds)));
}

/**
 * A template's env, sent whole on every saveTemplate (a full replace). Live configs name the worker's mode
 * explicitly (FLASH_WORKER_MODE), and load-balanced ones carry PORT and PORT_HEALTH themselves: Runpod injects
 * them once at first deploy and a full-replace saveTemplate drops them (runpod/flash serverless.py
 * `_preserve_platform_env`), and both default to 80 (docs serverless/load-balancing/overview). A user's own PORT
 * wins. Every template carries FLASH_WORKSPACE, the marker that lets flash adopt only endpoints it created.
 */
function templateEnv(config: ResourceConfig, opts: MapOptions, bootstrap: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  if (config.isLive && config.isLoadBalancer) Object.assign(env, { PORT: "80", PORT_HEALTH: "80" });
  Object.assign(env, config.env, { FLASH_WORKSPACE: opts.workspace });
  // The volume itself is mounted at /runpod-volume (docs.runpod.io/storage/network-volumes); its name tells
  // `volume.path` in the worker which NetworkVolume that mount is.
  if (config.networkVolume) env.FLASH_VOLUME_NAME = config.networkVolume.name;
  if (!config.isLive) return env;
  env.FLASH_WORKER_MODE = config.isLoadBalancer ? "lb" : "queue";
  // Jobs one queue worker runs at once: runpod/flash bakes `concurrency_modifier: lambda current: max_concurrency`
  // into the handler it generates (cli/commands/build_utils/handler_generator.py); flash's one worker program
  // reads it from here instead (worker/queue.ts).
  if (config.maxConcurrency > 1 && !config.isLoadBalancer) env.FLASH_MAX_CONCURRENCY = String(config.maxConcurrency);
  if (bootstrap) {
    if (!opts.programHash || !opts.bootstrap) throw new Error("a default-image template needs the worker program");
    env.FLASH_WORKER_HASH = opts.programHash;
    env.FLASH_BOOTSTRAP = opts.bootstrap;
    if (config.isGpu) env.FLASH_INSTALL_BUN = installBunPython();
  }
  return env;
}

function toEnvList(env: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}

/** sha256 over the mapped fields with sorted keys: equal configs hash equal, any sent field change changes it. */
export function configHash(mapped: Mapped): string {
  return hashOf({ template: mapped.template, endpoint: mapped.endpoint });
}

/** The hash of the template fields alone: the template is saved again only when it changes. */
export function templateHash(mapped: Mapped): string {
  return hashOf(mapped.template ?? null);
}

function hashOf(value: unknown): string {
  return shortHash(stableJson(value), 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
