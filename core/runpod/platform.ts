/**
 * Runpod's facts in one place: limits, defaults, the endpoint and template inputs, the text of a load balancer's
 * cold-start answer, and the documented order of a teardown. The client (`runpod/`), the deploy (`deploy/`), the
 * emulator and the doctor read them from here, so a platform rule is written once.
 */

/**
 * Request size limits, bytes (docs serverless/endpoints/operation-reference "Maximum payload size": /run 10 MB,
 * /runsync 20 MB; serverless/load-balancing/overview "Payload limit": 30 MB per load-balanced request). Decimal
 * megabytes, the stricter reading: a call the client lets through is one the platform takes.
 */
export const PAYLOAD_LIMITS = { run: 10_000_000, runsync: 20_000_000, lb: 30_000_000 } as const;

/**
 * A job's execution limit when the endpoint sets none: 600 s (docs serverless/endpoints/endpoint-configurations
 * "Execution timeout": "default 600 seconds"; runpod/flash `executionTimeoutMs` default in core/resources/serverless.py).
 */
export const DEFAULT_EXECUTION_TIMEOUT_MS = 600_000;

/**
 * How long a load-balanced request may be processed: 5.5 minutes (docs serverless/load-balancing/overview,
 * "Timeouts": 2 min to get a worker, 5.5 min of processing).
 */
export const LB_REQUEST_TIMEOUT_MS = 330_000;

/** How long the load balancer holds a request while no worker is ready before it answers "no workers available" (same doc). */
export const LB_NO_WORKER_WAIT_MS = 120_000;

/**
 * A client's retry window for those answers (a GPU worker pulling a multi-GB image outlasts the balancer's 2 min),
 * and the pause between tries (the docs say to retry with 5–10 s delays).
 */
export const LB_COLD_START_RETRY = { windowMs: 180_000, delayMs: 5000 } as const;

/** What the load balancer answers when no worker saw the request (docs serverless/load-balancing/overview). */
export const LB_NO_WORKERS_TEXT = "no workers available";

/** Whether a load balancer's error body says no worker took the request (a cold start: safe to send again). */
export function isColdStartAnswer(body: string): boolean {
  return /no workers? available|waiting for (a )?worker|no healthy/i.test(body);
}

/**
 * How long after its endpoint's last use Runpod may refuse to delete a template (docs
 * sdks/graphql/manage-pod-templates.mdx: "It can take up to 2 minutes to delete a template after its most recent use").
 */
export const TEMPLATE_DELETE_LAG_MS = 120_000;

/** Whether a saveTemplate refusal is the name clash (docs manage-pod-templates: "Template names must be unique"). */
export function isTemplateNameClash(message: string): boolean {
  return /unique|taken|exist|already|duplicate/i.test(message);
}

/** `{key, value}` as GraphQL carries environment variables. */
export interface EnvVarInput {
  key: string;
  value: string;
}

/** SaveTemplateInput (the fields flash sends). */
export interface TemplateInput {
  id?: string;
  name: string;
  imageName: string;
  containerDiskInGb: number;
  volumeInGb: number;
  dockerArgs: string;
  env: EnvVarInput[];
  isServerless: boolean;
  readme?: string;
  /** A private image's registry credentials (runpod/flash core/resources/template.py `containerRegistryAuthId`). */
  containerRegistryAuthId?: string;
}

/** EndpointInput (the fields flash sends; `id` present = update, a full replace). */
export interface EndpointInput {
  id?: string;
  name: string;
  templateId: string;
  type: "QB" | "LB";
  /** GPU endpoints only (omitted for CPU). */
  gpuIds?: string;
  gpuCount?: number;
  instanceIds?: string[];
  workersMin: number;
  workersMax: number;
  idleTimeout: number;
  scalerType: string;
  scalerValue: number;
  executionTimeoutMs: number;
  workersPFBTarget: number;
  locations?: string;
  networkVolumeId?: string;
  flashBootType?: "FLASHBOOT" | "OFF";
  allowedCudaVersions?: string;
  minCudaVersion?: string;
  flashEnvironmentId?: string;
}

/** An endpoint as `saveEndpoint` / `myself { endpoints }` return it (the fields flash selects). */
export interface EndpointInfo {
  id: string;
  name: string;
  templateId: string;
  type: string;
  gpuIds: string;
  gpuCount?: number;
  instanceIds?: string[] | null;
  workersMin: number;
  workersMax: number;
  idleTimeout: number;
  scalerType?: string;
  scalerValue?: number;
  locations?: string | null;
  /** The attached network volume (runpod-python api/queries/endpoints.py reads it from `myself { endpoints }`). */
  networkVolumeId?: string | null;
  executionTimeoutMs?: number;
  flashBootType?: string | null;
  /** The Flash environment the endpoint belongs to (a full-replace save without it would detach the endpoint). */
  flashEnvironmentId?: string | null;
  version?: number;
}

/**
 * The endpoint fields flash selects, every one of them in runpod/flash's saveEndpoint selection
 * (core/api/runpod.py): what a full-replace save needs to send an endpoint back as it was.
 */
export const ENDPOINT_FIELDS =
  "id name templateId type gpuIds gpuCount instanceIds workersMin workersMax idleTimeout scalerType scalerValue " +
  "locations networkVolumeId executionTimeoutMs flashBootType flashEnvironmentId version";

/** The GraphQL documents of the endpoint and template mutations, as runpod/flash sends them (core/api/runpod.py). */
export const MUTATIONS = {
  saveEndpoint: (fields = ENDPOINT_FIELDS) =>
    `mutation saveEndpoint($input: EndpointInput!) { saveEndpoint(input: $input) { ${fields} } }`,
  deleteEndpoint: "mutation deleteEndpoint($id: String!) { deleteEndpoint(id: $id) }",
  /** `$name: String!` validates against a nullable or a non-null schema argument. */
  deleteTemplate: "mutation deleteTemplate($name: String!) { deleteTemplate(templateName: $name) }",
} as const;

/**
 * The EndpointInput that re-saves an endpoint as listed, with some fields changed. saveEndpoint replaces the whole
 * endpoint, so every field it was created with goes back (its volume too: without it, a scale-down before a delete
 * that then fails would leave the endpoint detached from its data).
 */
export function endpointInputOf(e: EndpointInfo, changes: Partial<EndpointInput> = {}): EndpointInput {
  const input: EndpointInput = {
    id: e.id,
    name: e.name,
    templateId: e.templateId,
    type: e.type === "LB" ? "LB" : "QB",
    workersMin: e.workersMin,
    workersMax: e.workersMax,
    idleTimeout: e.idleTimeout,
    scalerType: e.scalerType ?? "QUEUE_DELAY",
    scalerValue: e.scalerValue ?? 4,
    executionTimeoutMs: e.executionTimeoutMs ?? DEFAULT_EXECUTION_TIMEOUT_MS,
    workersPFBTarget: 0,
  };
  if (e.instanceIds?.length) input.instanceIds = e.instanceIds;
  else {
    if (e.gpuIds) input.gpuIds = e.gpuIds;
    if (e.gpuCount) input.gpuCount = e.gpuCount;
  }
  if (e.locations) input.locations = e.locations;
  if (e.networkVolumeId) input.networkVolumeId = e.networkVolumeId;
  if (e.flashBootType === "FLASHBOOT" || e.flashBootType === "OFF") input.flashBootType = e.flashBootType;
  if (e.flashEnvironmentId) input.flashEnvironmentId = e.flashEnvironmentId;
  return { ...input, ...changes };
}

/** The operations a teardown needs, over whichever API (GraphQL today). */
export interface TeardownOps {
  list(): Promise<EndpointInfo[]>;
  save(input: EndpointInput): Promise<unknown>;
  /** Send the delete; a refusal may be thrown (the list that follows decides). */
  remove(id: string): Promise<void>;
}

/**
 * Delete an endpoint in the documented order: scale it to 0/0 ("The endpoint's min and max workers must both be zero
 * before you can delete it": docs sdks/graphql/manage-endpoints, "Delete an endpoint"), delete it, then list to
 * verify it is gone. An endpoint that is not listed counts as deleted (as in runpod/flash). Its template comes after
 * and may be refused for `TEMPLATE_DELETE_LAG_MS`. Returns the endpoint as it was listed (undefined: already gone).
 */
export async function teardownEndpoint(ops: TeardownOps, id: string): Promise<EndpointInfo | undefined> {
  const found = (await ops.list()).find((e) => e.id === id);
  if (!found) return undefined;
  if (found.workersMin !== 0 || found.workersMax !== 0) {
    await ops.save(endpointInputOf(found, { workersMin: 0, workersMax: 0 }));
  }
  let refusal: Error | undefined;
  try {
    await ops.remove(id);
  } catch (err) {
    refusal = err as Error;
  }
  if ((await ops.list()).some((e) => e.id === id)) {
    throw new Error(
      `endpoint ${found.name} (${id}) is still on the account after deleteEndpoint${refusal ? `: ${refusal.message}` : ""}`,
    );
  }
  return found;
}

/**
 * The artifact upload to its presigned URL: 3 attempts, backoff from 2 s up to 30 s, on connection errors and
 * timeouts only (runpod/flash core/resources/app.py `_upload_tarball`, constants.py `UPLOAD_MAX_RETRIES`,
 * `UPLOAD_BACKOFF_*`). runpod/flash gives every attempt a fixed 10 minutes (`UPLOAD_TIMEOUT_SECONDS`), which a
 * 1.5 GB artifact on a slow uplink cannot meet; here an attempt may take `floorMs` plus the time the artifact needs
 * at `minBytesPerSecond` (2 min + 512 KiB/s: 10 min for 240 MiB, 52 min for 1.5 GB).
 */
export const ARTIFACT_UPLOAD = {
  floorMs: 120_000,
  minBytesPerSecond: 512 * 1024,
  attempts: 3,
  baseDelayMs: 2000,
  maxDelayMs: 30_000,
} as const;

/**
 * Runpod does not dispatch a job whose input is empty or null: it stays queued until it times out. runpod/flash
 * refuses such a call before sending it, with this message (commit 02058db1, "reject empty/null input to match
 * serverless platform behavior", #302).
 */
export const EMPTY_INPUT_MESSAGE =
  "Empty or null input. RunPod serverless requires at least one field in the input dict. Use explicit values or " +
  'pass null for optional parameters, e.g. {"input": {"param_name": null}}.';

/** Whether a job input is one Runpod never dispatches (null, or an object without a field). */
export function isEmptyInput(input: unknown): boolean {
  if (input === null || input === undefined) return true;
  return typeof input === "object" && !Array.isArray(input) && Object.keys(input).length === 0;
}

/**
 * The largest streamed chunk: "Maximum size for a single streamed payload chunk is 1 MB. Larger outputs are split
 * across multiple chunks" (docs serverless/endpoints/operation-reference). A split chunk would reach the reader as
 * pieces that are not the yielded value, so a worker refuses a larger yield instead (decimal MB, the stricter reading).
 */
export const STREAM_CHUNK_LIMIT = 1_000_000;
