/**
 * Runpod's Flash app GraphQL (apps, environments, builds) and the presigned artifact upload, with the operations,
 * inputs and selections runpod/flash sends (src/runpod_flash/core/api/runpod.py; upload flow in
 * src/runpod_flash/core/resources/app.py: prepareFlashArtifactUpload → HTTP PUT of the tarball with
 * `Content-Type: application/gzip` → finalizeFlashArtifactUpload → deployBuildToEnvironment).
 */
import { logger } from "../base/log";
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

/** Client of the Flash app plane. */
export class FlashAppClient {
  constructor(
    /** The control plane these calls go through (the deploy record reads endpoints and templates with it too). */
    readonly gql: RunpodGraphql,
    /** The first pause between upload attempts (ARTIFACT_UPLOAD.baseDelayMs; tests pass a short one). */
    private readonly uploadBackoffMs: number = ARTIFACT_UPLOAD.baseDelayMs,
  ) {}

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
   * Returns the new build's id.
   */
  async uploadBuild(appId: string, artifact: Uint8Array, manifest: unknown): Promise<string> {
    const prep = await this.gql.request<{ prepareFlashArtifactUpload: { uploadUrl: string; objectKey: string } }>(
      "mutation PrepareArtifactUpload($input: PrepareFlashArtifactUploadInput!) { prepareFlashArtifactUpload(input: $input) { uploadUrl objectKey expiresAt } }",
      { input: { flashAppId: appId, tarballSize: artifact.length } },
      { retry: false },
    );
    const { uploadUrl, objectKey } = prep.prepareFlashArtifactUpload;
    await this.put(uploadUrl, artifact);
    const fin = await this.gql.request<{ finalizeFlashArtifactUpload: { id: string } }>(
      "mutation FinalizeArtifactUpload($input: FinalizeFlashArtifactUploadInput!) { finalizeFlashArtifactUpload(input: $input) { id manifest } }",
      { input: { flashAppId: appId, objectKey, manifest } },
      { retry: false },
    );
    return fin.finalizeFlashArtifactUpload.id;
  }

  /**
   * PUT the artifact to its presigned URL. The URL is the credential: no Authorization header (S3 would reject a
   * second auth scheme). A connection error or a timeout is tried again (ARTIFACT_UPLOAD); an HTTP error is not.
   */
  private async put(uploadUrl: string, artifact: Uint8Array): Promise<void> {
    const shown = (text: string) => text.replace(/X-Amz-Signature=[^&\s"]+/g, "X-Amz-Signature=***");
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(uploadUrl, {
          method: "PUT",
          headers: { "content-type": "application/gzip" },
          body: artifact as Uint8Array<ArrayBuffer>,
          signal: AbortSignal.timeout(ARTIFACT_UPLOAD.timeoutMs),
        });
      } catch (err) {
        if (attempt >= ARTIFACT_UPLOAD.attempts) {
          throw new Error(`artifact upload failed after ${attempt} attempts: ${shown((err as Error).message)}`);
        }
        const delay = Math.min(ARTIFACT_UPLOAD.maxDelayMs, this.uploadBackoffMs * 2 ** (attempt - 1));
        flog.warn(
          `upload attempt ${attempt}/${ARTIFACT_UPLOAD.attempts} failed: ${shown((err as Error).message)}; retrying`,
        );
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
