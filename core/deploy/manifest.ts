/**
 * `.flash/flash_manifest.json`: what a build contains, in the shape of the Python Flash manifest (runpod/flash
 * src/runpod_flash/cli/commands/build_utils/manifest.py: `version`, `project_name`, `resources` keyed by name with
 * their functions, `function_registry`, `routes` of load-balanced resources, `source_fingerprint`; after a deploy
 * `resources_endpoints`). flash adds per-resource `config_hash` and `source_fingerprint` (what the plan compares)
 * and keys functions by module + export name. No timestamp: the same sources give the same manifest bytes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceConfig } from "../remote/config";
import type { EndpointInput, EnvVarInput, TemplateInput } from "../runpod/platform";
import { secretName } from "../base/secrets";
import { shortHash } from "../base/fs";
import { configHash, INSTALL_BUN_LINE, mapConfig } from "../runpod/mapping";
import { deployStartBase64 } from "../runpod/deploy-start";
import type { Scope } from "../workspace/discovery";
import { type Discovery, type FoundFunction, fingerprint, localClosure } from "./discover";

/** The manifest's format version. */
const MANIFEST_VERSION = "flash-1";

/** Template fields a deployed endpoint's workers run with (before the deploy adds its env). */
type ManifestTemplate = Omit<TemplateInput, "id" | "name">;
/** Endpoint fields (before the deploy adds ids). */
export type ManifestEndpoint = Omit<EndpointInput, "id" | "templateId">;

/** One resource: its endpoint settings, its functions, and what identifies its config and code. */
export interface ManifestResource {
  resource_type: string;
  is_load_balanced: boolean;
  is_gpu: boolean;
  is_mothership: boolean;
  /** sha256 (32 hex) of the endpoint + template fields the config maps to. */
  config_hash: string;
  /** sha256 of the workspace files this resource's code imports (its own modules and their local imports). */
  source_fingerprint: string;
  template: ManifestTemplate;
  endpoint: ManifestEndpoint;
  functions: FoundFunction[];
  /** Where the mothership config came from (`default` or a file). */
  config_source?: string;
  /** The network volume the endpoint mounts, found by name (or created) when the deploy applies. */
  network_volume?: { name: string; size: number; dataCenterId: string };
}

/** The whole manifest. */
export interface Manifest {
  version: string;
  project_name: string;
  scope: Scope;
  /** sha256 over every packaged source file. */
  source_fingerprint: string;
  resources: Record<string, ManifestResource>;
  /** `module#name` → resource name. */
  function_registry: Record<string, string>;
  /** Load-balanced resources: `"METHOD /path"` → `module#name`; the mothership: `"METHOD /path"` → example. */
  routes: Record<string, Record<string, string>>;
  mothership: string;
  /** Added by `flash deploy`: resource → endpoint URL. */
  resources_endpoints?: Record<string, string>;
  /** Added by `flash deploy`: resource → what was deployed (endpoint id, hash of the full desired config). */
  deployed?: Record<string, DeployedResource>;
  /** Added by `flash deploy`: sha256 of the artifact the build holds (an unchanged artifact is not uploaded again). */
  artifact_sha256?: string;
  /**
   * Templates of deleted endpoints that Runpod refused to delete yet (up to 2 min after the endpoint's last use:
   * docs sdks/graphql/manage-pod-templates): every later deploy, undeploy and env delete tries again.
   */
  pending_templates?: string[];
}

/** What `flash deploy` recorded for one resource in the build's stored manifest. */
export interface DeployedResource {
  endpoint_id: string;
  endpoint_name: string;
  template_id: string;
  template_name: string;
  /** Hash of the endpoint + template inputs actually sent (deploy env included). */
  desired_hash: string;
  endpoint: ManifestEndpoint;
  template: ManifestTemplate;
}

/**
 * An env value as manifests record it: a salted sha256 prefix, never the value (the artifact is unpacked on every
 * worker, and the build manifest is stored on Runpod). A secret reference holds no secret and is kept readable;
 * a recorded hash is kept as is. The plan compares these to tell which keys changed.
 */
function envDigest(key: string, value: string): string {
  if (value.startsWith("sha256:") || secretName(value) !== undefined) return value;
  return `sha256:${new Bun.CryptoHasher("sha256").update(`flash-env\u0000${key}\u0000${value}`).digest("hex").slice(0, 16)}`;
}

/** An env list with every value recorded by `envDigest`. */
export function digestEnv(env: EnvVarInput[]): EnvVarInput[] {
  return env.map((v) => ({ key: v.key, value: envDigest(v.key, v.value) }));
}

/** A deployed record as it is stored: its template env by digest. */
export function storedRecord(d: DeployedResource): DeployedResource {
  return { ...d, template: { ...d.template, env: digestEnv(d.template.env) } };
}

/** The key of a function in `function_registry`. */
function functionKey(fn: { module: string; name: string }): string {
  return `${fn.module}#${fn.name}`;
}

/**
 * The start command of a deployed worker on a stock image (no flash inside): Bun first where the image lacks it
 * (the GPU image: the same installer as live templates); then the launcher in FLASH_DEPLOY_START
 * (worker/deploy-start.js) puts the build into /app, waiting for Runpod's mount or fetching it; then the flash
 * runtime the artifact carries runs. Images built from worker/Dockerfile.* start the same way (they have Bun).
 */
function deployedStart(gpu: boolean, runtime: string): string {
  const bun = gpu ? INSTALL_BUN_LINE : "";
  return (
    `sh -c '${bun}L="$FLASH_CONTAINER_ROOT/tmp/flash-deploy-$$.js"; echo "$FLASH_DEPLOY_START" | base64 -d > "$L" && ` +
    `bun --no-install "$L" && exec bun --no-install "$FLASH_CONTAINER_ROOT/app/${runtime}"'`
  );
}

/** Where the artifact carries flash's worker program (bundled), for stock images. */
export const RUNTIME_PATH = ".flash/runtime/worker/main.js";
/** The same program with the unified app (core/app/app.ts) for the mothership, and the docs assets beside it. */
export const MOTHERSHIP_RUNTIME_PATH = ".flash/runtime/mothership.js";

function resourceEntry(
  appName: string,
  root: string,
  config: ResourceConfig,
  functions: FoundFunction[],
  files: string[],
  mothership: boolean,
): ManifestResource {
  // Deployed templates never carry the live bootstrap: their workers run the program inside the artifact.
  const mapped = mapConfig(config, {
    live: false,
    workspace: shortHash(`deploy:${appName}`),
    programHash: "-",
    bootstrap: "-",
  });
  if (!mapped.template) {
    throw new Error(
      `${config.kind} "${config.name}" names an existing template (templateId): flash deploy needs its own template to mount the artifact`,
    );
  }
  const env = mapped.template.env.filter((v) => v.key !== "FLASH_BOOTSTRAP" && v.key !== "FLASH_WORKER_HASH");
  // flash's own images (the stock defaults, and images built from worker/Dockerfile.*, whose CMD runs the worker
  // program without the app) start from the artifact's runtime; an image the config names runs its own command.
  const flashImage = config.isLive && !config.imageName;
  if (flashImage) env.push({ key: "FLASH_DEPLOY_START", value: deployStartBase64() });
  env.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const template = {
    ...mapped.template,
    env,
    // The mothership runs its own runtime (the worker program plus the unified app); other resources the worker program.
    dockerArgs: flashImage
      ? deployedStart(config.isGpu, mothership ? MOTHERSHIP_RUNTIME_PATH : RUNTIME_PATH)
      : mapped.template.dockerArgs,
  };
  const entry: ManifestResource = {
    resource_type: config.kind,
    is_load_balanced: config.isLoadBalancer,
    is_gpu: config.isGpu,
    is_mothership: mothership,
    config_hash: configHash({ ...mapped, template }),
    source_fingerprint: fingerprint(root, files),
    template,
    endpoint: { ...mapped.endpoint, name: mapped.name },
    functions: [...functions].sort((a, b) => functionKey(a).localeCompare(functionKey(b))),
  };
  const volume = config.networkVolume;
  if (volume && !volume.id) {
    entry.network_volume = { name: volume.name, size: volume.size, dataCenterId: volume.dataCenterId };
  }
  return entry;
}

/** Build the manifest of a discovery (`packaged`: every source file in the artifact, for the global fingerprint). */
export function buildManifest(d: Discovery, appName: string, packaged: string[]): Manifest {
  const resources: Record<string, ManifestResource> = {};
  const registry: Record<string, string> = {};
  const routes: Record<string, Record<string, string>> = {};
  for (const name of [...d.resources.keys()].sort()) {
    const found = d.resources.get(name)!;
    const modules = [...new Set(found.functions.map((f) => join(d.root, f.module)))];
    resources[name] = resourceEntry(
      appName,
      d.root,
      found.config,
      found.functions,
      localClosure(d.root, modules),
      false,
    );
    for (const fn of found.functions) {
      const key = functionKey(fn);
      if (registry[key] && registry[key] !== name) throw new Error(`${key} is registered on two resources`);
      registry[key] = name;
      if (fn.method && fn.path) (routes[name] ??= {})[`${fn.method} ${fn.path}`] = key;
    }
  }
  const m = d.mothership;
  const mothership = resourceEntry(appName, d.root, m.config, [], localClosure(d.root, d.routerFiles), true);
  mothership.config_source = m.source;
  resources[m.config.name] = mothership;
  routes[m.config.name] = d.appRoutes;
  return {
    version: MANIFEST_VERSION,
    project_name: appName,
    scope: d.scope,
    source_fingerprint: fingerprint(d.root, packaged),
    resources,
    function_registry: registry,
    routes,
    mothership: m.config.name,
  };
}

/** Read and check a manifest file; throws with the reason when it is not one. */
export function readManifest(file: string): Manifest {
  let parsed: Manifest;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message} (run flash build first)`);
  }
  if (!parsed || typeof parsed !== "object" || !parsed.resources || typeof parsed.resources !== "object") {
    throw new Error(`${file} is not a flash manifest (no "resources"); run flash build again`);
  }
  if (parsed.version !== MANIFEST_VERSION) {
    throw new Error(
      `${file} has manifest version ${parsed.version}, this flash writes ${MANIFEST_VERSION}; run flash build again`,
    );
  }
  return parsed;
}

/** JSON with sorted keys (stable bytes for equal content). */
export function stableStringify(value: unknown, indent = 2): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
