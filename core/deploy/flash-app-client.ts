/**
 * Runpod's Flash app GraphQL (apps, environments, builds) and the presigned artifact upload, with the operations,
 * inputs and selections runpod/flash sends (src/runpod_flash/core/api/runpod.py; upload flow in
 * src/runpod_flash/core/resources/app.py: prepareFlashArtifactUpload → HTTP PUT of the tarball with
 * `Content-Type: application/gzip` → finalizeFlashArtifactUpload → deployBuildToEnvironment).
 */
import { formatBytes } from "../base/bytes";
import { logger } from "../base/log";
import type { TransferProgress } from "../base/progress";
import { formatSeconds } from "../base/spinner";
import { GraphqlError, type RunpodGraphql } from "../runpod/graphql";
import { sleep } from "../runpod/http";
import { ARTIFACT_UPLOAD } from "../runpod/platform";

const flog = logger("deploy");

/** An environment as flash selects it. */
export interface FlashEnvironment {
  id: string;
  name: string;
  state: string;
  activeBuildId: string | null;
  createdAt?: string;
  endpoints?: { id: string; name: string }[];
  networkVolumes?: { id: string; name: string }[];
}

/** An app with its environments and builds. */
export interface FlashApp {
  id: string;
  name: string;
  flashEnvironments: FlashEnvironment[];
  flashBuilds: { id: string; objectKey?: string; createdAt?: string }[];
}

/** A build with its stored manifest. */
export interface FlashBuild {
  id: string;
  manifest: unknown;
}

const ENV_FIELDS = "id name state activeBuildId createdAt endpoints { id name } networkVolumes { id name }";
const APP_FIELDS = `id name flashEnvironments { ${ENV_FIELDS} } flashBuilds { id objectKey createdAt }`;

/** Whether an error is Runpod saying the app does not exist (flash matches this text: cli/commands/deploy.py). */
function isAppNotFound(err: unknown): boolean {
  return err instanceof GraphqlError && /app not found/i.test(err.message);
}

/** How the artifact upload paces itself (ARTIFACT_UPLOAD; tests pass short ones). */
export interface UploadPolicy {
  /** The first pause between attempts, ms. */
  baseDelayMs: number;
  /** An attempt may take this long plus the artifact's size at `minBytesPerSecond`, ms. */
  floorMs: number;
  /** The slowest rate an attempt is allowed, bytes/s: a slower one is taken for stalled. */
  minBytesPerSecond: number;
}

/** How long one upload attempt of `bytes` may take, ms. */
export function uploadTimeoutMs(bytes: number, policy: Pick<UploadPolicy, "floorMs" | "minBytesPerSecond">): number {
  return Math.round(policy.floorMs + (bytes / policy.minBytesPerSecond) * 1000);
}

/** How much of the artifact goes to the socket at a time (what progress is counted in). */
const UPLOAD_CHUNK = 256 * 1024;

/** Client of the Flash app plane. */
export class FlashAppClient {
  private readonly upload: UploadPolicy;

  constructor(
    /** The control plane these calls go through (the deploy record reads endpoints and templates with it too). */
    readonly gql: RunpodGraphql,
    upload: Partial<UploadPolicy> = {},
  ) {
    this.upload = { ...ARTIFACT_UPLOAD, ...upload };
  }

  /** Every app of the account, with environments and builds. */
  async listApps(): Promise<FlashApp[]> {
    const data = await this.gql.request<{ myself: { flashApps: FlashApp[] } }>(
      `query getFlashApps { myself { flashApps { ${APP_FIELDS} } } }`,
    );
    return data.myself?.flashApps ?? [];
  }

  /** The app named `name`, or undefined when Runpod says it does not exist. */
  async appByName(name: string): Promise<FlashApp | undefined> {
    try {
      const data = await this.gql.request<{ flashAppByName: FlashApp | null }>(
        `query getFlashAppByName($flashAppName: String!) { flashAppByName(flashAppName: $flashAppName) { ${APP_FIELDS} } }`,
        { flashAppName: name },
      );
      return data.flashAppByName ?? undefined;
    } catch (err) {
      if (isAppNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Create an app. */
  async createApp(name: string): Promise<FlashApp> {
    const data = await this.gql.request<{ createFlashApp: { id: string; name: string } }>(
      "mutation createFlashApp($input: CreateFlashAppInput!) { createFlashApp(input: $input) { id name } }",
      { input: { name } },
      { retry: false },
    );
    return { ...data.createFlashApp, flashEnvironments: [], flashBuilds: [] };
  }

  /** Create an environment in an app. */
  async createEnvironment(appId: string, name: string): Promise<FlashEnvironment> {
    const data = await this.gql.request<{ createFlashEnvironment: FlashEnvironment }>(
      "mutation createFlashEnvironment($input: CreateFlashEnvironmentInput!) { createFlashEnvironment(input: $input) { id name state activeBuildId } }",
      { input: { flashAppId: appId, name } },
      { retry: false },
    );
    return { endpoints: [], ...data.createFlashEnvironment };
  }

  /** One environment with its endpoints. */
  async environment(id: string): Promise<FlashEnvironment> {
    const data = await this.gql.request<{ flashEnvironment: FlashEnvironment }>(
      `query getFlashEnvironment($flashEnvironmentId: String!) { flashEnvironment(flashEnvironmentId: $flashEnvironmentId) { ${ENV_FIELDS} } }`,
      { flashEnvironmentId: id },
    );
    return data.flashEnvironment;
  }

  /** A build with its manifest. */
  async build(id: string): Promise<FlashBuild> {
    const data = await this.gql.request<{ flashBuild: FlashBuild }>(
      "query getFlashBuild($input: String!) { flashBuild(flashBuildId: $input) { id manifest } }",
      { input: id },
    );
    return data.flashBuild;
  }

  /**
   * Upload an artifact: a presigned URL for its size, an HTTP PUT of the bytes, then finalize with the manifest.
   * Returns the new build's id. `progress` makes the reporter of each attempt (none: nothing is shown).
   */
  async uploadBuild(
    appId: string,
    artifact: Uint8Array,
    manifest: unknown,
    progress?: () => TransferProgress,
  ): Promise<string> {
    const prep = await this.gql.request<{ prepareFlashArtifactUpload: { uploadUrl: string; objectKey: string } }>(
      "mutation PrepareArtifactUpload($input: PrepareFlashArtifactUploadInput!) { prepareFlashArtifactUpload(input: $input) { uploadUrl objectKey expiresAt } }",
      { input: { flashAppId: appId, tarballSize: artifact.length } },
      { retry: false },
    );
    const { uploadUrl, objectKey } = prep.prepareFlashArtifactUpload;
    await this.put(uploadUrl, artifact, progress);
    const fin = await this.gql.request<{ finalizeFlashArtifactUpload: { id: string } }>(
      "mutation FinalizeArtifactUpload($input: FinalizeFlashArtifactUploadInput!) { finalizeFlashArtifactUpload(input: $input) { id manifest } }",
      { input: { flashAppId: appId, objectKey, manifest } },
      { retry: false },
    );
    return fin.finalizeFlashArtifactUpload.id;
  }

  /**
   * PUT the artifact to its presigned URL. The URL is the credential: no Authorization header (S3 would reject a
   * second auth scheme). The body is streamed in chunks with its Content-Length (S3 takes no chunked upload), so
   * the bytes the socket accepted are known as they go. An attempt may take `uploadTimeoutMs` of the size; a
   * connection error or a timeout is tried again (ARTIFACT_UPLOAD); an HTTP error is not.
   */
  private async put(uploadUrl: string, artifact: Uint8Array, progress?: () => TransferProgress): Promise<void> {
    const shown = (text: string) => text.replace(/X-Amz-Signature=[^&\s"]+/g, "X-Amz-Signature=***");
    const { attempts, maxDelayMs } = ARTIFACT_UPLOAD;
    const limitMs = uploadTimeoutMs(artifact.length, this.upload);
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      let sent = 0;
      const started = performance.now();
      const report = progress?.();
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= artifact.length) return controller.close();
          const chunk = artifact.subarray(sent, sent + UPLOAD_CHUNK);
          sent += chunk.length;
          report?.advance(sent);
          controller.enqueue(chunk);
        },
      });
      try {
        res = await fetch(uploadUrl, {
          method: "PUT",
          headers: { "content-type": "application/gzip", "content-length": String(artifact.length) },
          body,
          signal: AbortSignal.timeout(limitMs),
        });
        report?.end(!res.ok);
      } catch (err) {
        report?.end(true);
        const e = err as Error;
        const elapsed = performance.now() - started;
        const why =
          e.name === "TimeoutError"
            ? `timed out after ${formatSeconds(elapsed)} with ${formatBytes(sent)} of ${formatBytes(artifact.length)} ` +
              `sent (${formatBytes(Math.round((sent / Math.max(elapsed, 1)) * 1000))}/s; an attempt may take ` +
              `${formatSeconds(this.upload.floorMs)} plus the size at ${formatBytes(this.upload.minBytesPerSecond)}/s)`
            : shown(e.message);
        if (attempt >= attempts) throw new Error(`artifact upload failed after ${attempt} attempts: ${why}`);
        const delay = Math.min(maxDelayMs, this.upload.baseDelayMs * 2 ** (attempt - 1));
        flog.warn(`upload attempt ${attempt}/${attempts} failed: ${why}; retrying`);
        await sleep(delay);
        continue;
      }
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      const text = (await res.text()).slice(0, 300);
      throw new Error(`artifact upload failed: HTTP ${res.status} ${shown(text)}`);
    }
  }

  /** Make a build the environment's active one (what its workers mount). */
  async deployBuild(environmentId: string, buildId: string): Promise<void> {
    await this.gql.request(
      "mutation deployBuildToEnvironment($input: DeployBuildToEnvironmentInput!) { deployBuildToEnvironment(input: $input) { id name } }",
      { input: { flashEnvironmentId: environmentId, flashBuildId: buildId } },
      { retry: false },
    );
  }

  /** Store the manifest with what was deployed (endpoint ids, hashes) on the build. */
  async updateBuildManifest(buildId: string, manifest: unknown): Promise<void> {
    await this.gql.request(
      "mutation updateFlashBuildManifest($input: UpdateFlashBuildManifestInput!) { updateFlashBuildManifest(input: $input) { id } }",
      { input: { flashBuildId: buildId, manifest } },
      { retry: false },
    );
  }

  /** Delete an environment (its endpoints must be gone first). */
  async deleteEnvironment(id: string): Promise<void> {
    await this.gql.request(
      "mutation deleteFlashEnvironment($flashEnvironmentId: String!) { deleteFlashEnvironment(flashEnvironmentId: $flashEnvironmentId) }",
      { flashEnvironmentId: id },
      { retry: false },
    );
  }

  /** Delete an app. */
  async deleteApp(id: string): Promise<void> {
    await this.gql.request(
      "mutation deleteFlashApp($flashAppId: String!) { deleteFlashApp(flashAppId: $flashAppId) }",
      {
        flashAppId: id,
      },
      { retry: false },
    );
  }
}
