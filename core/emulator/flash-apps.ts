/**
 * The emulator's Flash app plane: apps, environments and builds in GraphQL, the presigned artifact upload, and the
 * active build's artifact mounted for the workers of an environment's endpoints, as Runpod does for Flash deploys.
 * Operation names, inputs and selections are the ones runpod/flash sends (src/runpod_flash/core/api/runpod.py:
 * flashAppByName, createFlashApp, createFlashEnvironment, prepareFlashArtifactUpload, finalizeFlashArtifactUpload,
 * deployBuildToEnvironment, updateFlashBuildManifest, deleteFlashApp, deleteFlashEnvironment, …). Uploads are
 * validated as runpod/flash src/runpod_flash/core/resources/app.py does (gzip magic bytes, size limit).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { removeWhenGone } from "../base/process-group";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, type EmulatedEndpoint, runpodId } from "./control-plane";

/** A Flash app. */
export interface EmulatedFlashApp {
  id: string;
  name: string;
  createdAt: string;
}

/** An environment of an app; its endpoints are those whose `flashEnvironmentId` names it. */
export interface EmulatedFlashEnvironment {
  id: string;
  appId: string;
  name: string;
  state: string;
  activeBuildId: string | null;
  createdAt: string;
}

/** An uploaded build: the artifact file and its manifest. */
export interface EmulatedFlashBuild {
  id: string;
  appId: string;
  objectKey: string;
  manifest: unknown;
  createdAt: string;
  /** Where the emulator keeps the artifact (what it mounts for workers). */
  file: string;
  size: number;
}

interface PendingUpload {
  appId: string;
  objectKey: string;
  size: number;
  token: string;
  expiresAt: number;
  received?: string;
}

/** Path prefix of presigned upload URLs (not behind the API key: the signature in the URL is the credential). */
export const UPLOAD_PREFIX = "/_flash-artifacts/";

/** Upload URLs expire after this long (S3 presigned URLs flash receives are short-lived). */
const UPLOAD_TTL_MS = 15 * 60_000;

/** Largest artifact accepted, MB (runpod/flash constants.py MAX_TARBALL_SIZE_MB = 1500 since v1.10.1). */
const MAX_TARBALL_MB = 1500;

/** The signature of a build's download URL (stable per build: the emulator does not expire downloads). */
function downloadToken(build: EmulatedFlashBuild): string {
  return new Bun.CryptoHasher("sha256").update(`download:${build.id}`).digest("hex").slice(0, 32);
}

/** GraphQL types and fields of the Flash plane, added to the control plane's schema. */
export const APPS_GRAPHQL = /* GraphQL */ `
  type FlashEndpointRef { id: String name: String }
  type FlashNetworkVolumeRef { id: String name: String }
  type FlashArtifact { objectKey: String downloadUrl: String expiresAt: String }
  type FlashBuild { id: String objectKey: String manifest: JSON createdAt: String }
  type FlashEnvironment {
    id: String name: String state: String activeBuildId: String createdAt: String
    endpoints: [FlashEndpointRef] networkVolumes: [FlashNetworkVolumeRef] activeArtifact: FlashArtifact
  }
  type FlashApp { id: String name: String createdAt: String flashEnvironments: [FlashEnvironment] flashBuilds: [FlashBuild] }
  type FlashUpload { uploadUrl: String objectKey: String expiresAt: String }
  input CreateFlashAppInput { name: String! }
  input CreateFlashEnvironmentInput { flashAppId: String! name: String! }
  input FlashEnvironmentByNameInput { flashAppId: String! name: String! }
  input PrepareFlashArtifactUploadInput { flashAppId: String! tarballSize: Int! }
  input FinalizeFlashArtifactUploadInput { flashAppId: String! objectKey: String! manifest: JSON }
  input DeployBuildToEnvironmentInput { flashEnvironmentId: String! flashBuildId: String! }
  input UpdateFlashBuildManifestInput { flashBuildId: String! manifest: JSON! }
  input UpdateFlashEnvironmentInput { flashEnvironmentId: String! state: String status: String }
  input AddEndpointToEnvironmentInput { flashEnvironmentId: String! endpointId: String! }
  extend type User { flashApps: [FlashApp] }
  extend type Query {
    flashApp(flashAppId: String!): FlashApp
    flashAppByName(flashAppName: String!): FlashApp
    flashEnvironment(flashEnvironmentId: String!): FlashEnvironment
    flashEnvironmentByName(input: FlashEnvironmentByNameInput!): FlashEnvironment
    flashBuild(flashBuildId: String!): FlashBuild
  }
  extend type Mutation {
    createFlashApp(input: CreateFlashAppInput!): FlashApp
    createFlashEnvironment(input: CreateFlashEnvironmentInput!): FlashEnvironment
    prepareFlashArtifactUpload(input: PrepareFlashArtifactUploadInput!): FlashUpload
    finalizeFlashArtifactUpload(input: FinalizeFlashArtifactUploadInput!): FlashBuild
    deployBuildToEnvironment(input: DeployBuildToEnvironmentInput!): FlashEnvironment
    updateFlashBuildManifest(input: UpdateFlashBuildManifestInput!): FlashBuild
    updateFlashEnvironment(input: UpdateFlashEnvironmentInput!): FlashEnvironment
    addEndpointToFlashEnvironment(input: AddEndpointToEnvironmentInput!): Endpoint
    deleteFlashApp(flashAppId: String!): Boolean
    deleteFlashEnvironment(flashEnvironmentId: String!): Boolean
  }
`;

/** Flash apps, environments, builds and uploads of one emulator. */
export class FlashApps {
  readonly apps = new Map<string, EmulatedFlashApp>();
  readonly environments = new Map<string, EmulatedFlashEnvironment>();
  readonly builds = new Map<string, EmulatedFlashBuild>();
  private readonly uploads = new Map<string, PendingUpload>();
  private readonly dir: string;

  constructor(
    private readonly control: ControlPlane,
    private readonly baseUrl: () => string,
    dataDir?: string,
  ) {
    this.dir = dataDir ?? mkdtempSync(join(tmpdir(), "flash-emulator-apps-"));
    if (!dataDir) removeWhenGone(this.dir); // uploaded artifacts do not outlive a killed emulator
    mkdirSync(join(this.dir, "artifacts"), { recursive: true });
    mkdirSync(join(this.dir, "workers"), { recursive: true });
  }

  /** Remove the artifacts and worker folders. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Whether the active build's artifact is put into the containers of an environment's endpoints. Runpod's docs
   * describe the mount for its Flash images only (docs flash/apps/apps-and-environments.mdx); tests turn it off to
   * show that a worker then fetches the build itself (`activeArtifact.downloadUrl`).
   */
  mountArtifacts = true;

  /**
   * What Runpod puts into a container of `endpoint`: an endpoint of a Flash environment with an active build gets
   * the artifact at /root/.runpod/artifact.tar.gz, where worker-flash unpacks it from (runpod-workers/worker-flash
   * src/constants.py DEFAULT_ARTIFACT_PATH, src/unpack_volume.py).
   */
  mounts(endpoint: EmulatedEndpoint): Record<string, string> {
    const build = this.activeBuild(endpoint.flashEnvironmentId);
    if (!build || !this.mountArtifacts) return {};
    return { "/root/.runpod/artifact.tar.gz": build.file };
  }

  /** GET of a presigned download URL (`activeArtifact.downloadUrl`): the artifact, or S3's 403. */
  download(request: Request): Response {
    const url = new URL(request.url);
    const objectKey = decodeURIComponent(url.pathname.slice(UPLOAD_PREFIX.length));
    const build = [...this.builds.values()].find((b) => b.objectKey === objectKey);
    if (!build || url.searchParams.get("X-Amz-Signature") !== downloadToken(build)) {
      return new Response("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", {
        status: 403,
        headers: { "content-type": "application/xml" },
      });
    }
    return new Response(Bun.file(build.file), { headers: { "content-type": "application/gzip" } });
  }

  private activeBuild(environmentId: string | undefined | null): EmulatedFlashBuild | undefined {
    const env = environmentId ? this.environments.get(environmentId) : undefined;
    return env?.activeBuildId ? this.builds.get(env.activeBuildId) : undefined;
  }

  /** The GraphQL resolvers of the Flash plane (merged into the control plane's root). */
  resolvers(): Record<string, unknown> {
    return {
      flashApp: ({ flashAppId }: { flashAppId: string }) => this.appView(this.appById(flashAppId)),
      flashAppByName: ({ flashAppName }: { flashAppName: string }) => {
        const app = [...this.apps.values()].find((a) => a.name === flashAppName);
        // flash matches "app not found" in the message to create a missing app (runpod/flash cli/commands/deploy.py).
        if (!app) throw new Error(`Flash app not found: ${flashAppName}`);
        return this.appView(app);
      },
      flashEnvironment: ({ flashEnvironmentId }: { flashEnvironmentId: string }) =>
        this.envView(this.envById(flashEnvironmentId)),
      flashEnvironmentByName: ({ input }: { input: { flashAppId: string; name: string } }) => {
        this.appById(input.flashAppId);
        const env = [...this.environments.values()].find((e) => e.appId === input.flashAppId && e.name === input.name);
        if (!env) throw new Error(`Flash environment not found: ${input.name}`);
        return this.envView(env);
      },
      flashBuild: ({ flashBuildId }: { flashBuildId: string }) => this.buildView(this.buildById(flashBuildId)),
      createFlashApp: ({ input }: { input: { name: string } }) => this.createApp(input.name),
      createFlashEnvironment: ({ input }: { input: { flashAppId: string; name: string } }) =>
        this.createEnvironment(input.flashAppId, input.name),
      prepareFlashArtifactUpload: ({ input }: { input: { flashAppId: string; tarballSize: number } }) =>
        this.prepareUpload(input.flashAppId, input.tarballSize),
      finalizeFlashArtifactUpload: ({
        input,
      }: {
        input: { flashAppId: string; objectKey: string; manifest?: unknown };
      }) => this.finalizeUpload(input.flashAppId, input.objectKey, input.manifest ?? null),
      deployBuildToEnvironment: ({ input }: { input: { flashEnvironmentId: string; flashBuildId: string } }) => {
        const env = this.envById(input.flashEnvironmentId);
        const build = this.buildById(input.flashBuildId);
        if (build.appId !== env.appId) throw new Error(`Build ${build.id} belongs to another app`);
        env.activeBuildId = build.id;
        env.state = "DEPLOYED";
        return this.envView(env);
      },
      updateFlashBuildManifest: ({ input }: { input: { flashBuildId: string; manifest: unknown } }) => {
        const build = this.buildById(input.flashBuildId);
        build.manifest = input.manifest;
        return this.buildView(build);
      },
      updateFlashEnvironment: ({
        input,
      }: {
        input: { flashEnvironmentId: string; state?: string; status?: string };
      }) => {
        const env = this.envById(input.flashEnvironmentId);
        env.state = input.state ?? input.status ?? env.state;
        return this.envView(env);
      },
      addEndpointToFlashEnvironment: ({ input }: { input: { flashEnvironmentId: string; endpointId: string } }) => {
        const env = this.envById(input.flashEnvironmentId);
        const e = this.control.endpoints.get(input.endpointId);
        if (!e) throw new Error(`Endpoint ${input.endpointId} not found`);
        e.flashEnvironmentId = env.id;
        return { ...e, template: () => this.control.templateOf(e) ?? null, pods: () => [] };
      },
      deleteFlashEnvironment: ({ flashEnvironmentId }: { flashEnvironmentId: string }) => {
        this.deleteEnvironment(this.envById(flashEnvironmentId));
        return null;
      },
      deleteFlashApp: ({ flashAppId }: { flashAppId: string }) => {
        const app = this.appById(flashAppId);
        for (const env of [...this.environments.values()]) if (env.appId === app.id) this.deleteEnvironment(env);
        for (const b of [...this.builds.values()]) if (b.appId === app.id) this.builds.delete(b.id);
        this.apps.delete(app.id);
        return null;
      },
    };
  }

  /** `myself { flashApps }`. */
  listApps(): unknown[] {
    return [...this.apps.values()].map((a) => this.appView(a));
  }

  /**
   * Receive a presigned PUT (`PUT <uploadUrl>` with the artifact as the body). Answers like S3: 403 for a bad or
   * expired signature, 400 for a body whose size is not the one announced; 200 with an ETag when stored.
   */
  async receiveUpload(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const objectKey = decodeURIComponent(url.pathname.slice(UPLOAD_PREFIX.length));
    const pending = this.uploads.get(objectKey);
    const s3Error = (status: number, code: string, message: string) =>
      new Response(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
        {
          status,
          headers: { "content-type": "application/xml" },
        },
      );
    if (request.method !== "PUT")
      return s3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    if (!pending || url.searchParams.get("X-Amz-Signature") !== pending.token) {
      return s3Error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
      );
    }
    if (Date.now() > pending.expiresAt) return s3Error(403, "AccessDenied", "Request has expired");
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length !== pending.size) {
      return s3Error(
        400,
        "IncompleteBody",
        `You did not provide the number of bytes announced (${pending.size}, got ${body.length}).`,
      );
    }
    const file = join(this.dir, "artifacts", objectKey.replaceAll("/", "_"));
    writeFileSync(file, body);
    pending.received = file;
    const etag = new Bun.CryptoHasher("md5").update(body).digest("hex");
    return new Response(null, { status: 200, headers: { etag: `"${etag}"` } });
  }

  private createApp(name: string): unknown {
    if (!name?.trim()) throw new Error("name is required");
    if ([...this.apps.values()].some((a) => a.name === name)) throw new Error(`Flash app "${name}" already exists`);
    const app: EmulatedFlashApp = { id: runpodId(), name, createdAt: new Date().toISOString() };
    this.apps.set(app.id, app);
    return this.appView(app);
  }

  private createEnvironment(appId: string, name: string): unknown {
    const app = this.appById(appId);
    if (!name?.trim()) throw new Error("name is required");
    if ([...this.environments.values()].some((e) => e.appId === app.id && e.name === name)) {
      throw new Error(`Flash environment "${name}" already exists in app ${app.name}`);
    }
    const env: EmulatedFlashEnvironment = {
      id: runpodId(),
      appId: app.id,
      name,
      state: "PENDING",
      activeBuildId: null,
      createdAt: new Date().toISOString(),
    };
    this.environments.set(env.id, env);
    return this.envView(env);
  }

  private prepareUpload(appId: string, size: number): unknown {
    const app = this.appById(appId);
    if (!Number.isInteger(size) || size <= 0) throw new Error("tarballSize must be a positive number of bytes");
    if (size > MAX_TARBALL_MB * 1024 * 1024) throw new Error(`Tarball exceeds maximum size of ${MAX_TARBALL_MB}MB`);
    const objectKey = `flash/${app.id}/${runpodId()}.tar.gz`;
    const token = runpodId() + runpodId();
    const expiresAt = Date.now() + UPLOAD_TTL_MS;
    this.uploads.set(objectKey, { appId: app.id, objectKey, size, token, expiresAt });
    return {
      uploadUrl: `${this.baseUrl()}${UPLOAD_PREFIX}${encodeURIComponent(objectKey)}?X-Amz-Expires=${UPLOAD_TTL_MS / 1000}&X-Amz-Signature=${token}`,
      objectKey,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  private finalizeUpload(appId: string, objectKey: string, manifest: unknown): unknown {
    const app = this.appById(appId);
    const pending = this.uploads.get(objectKey);
    if (!pending || pending.appId !== app.id) throw new Error(`Unknown upload ${objectKey} for app ${app.name}`);
    if (!pending.received) throw new Error(`No artifact was uploaded to ${objectKey}`);
    const head = readFileSync(pending.received).subarray(0, 2);
    if (head[0] !== 0x1f || head[1] !== 0x8b) throw new Error("The uploaded artifact is not a gzip file");
    this.uploads.delete(objectKey);
    const build: EmulatedFlashBuild = {
      id: crypto.randomUUID(),
      appId: app.id,
      objectKey,
      manifest,
      createdAt: new Date().toISOString(),
      file: pending.received,
      size: pending.size,
    };
    this.builds.set(build.id, build);
    return this.buildView(build);
  }

  private deleteEnvironment(env: EmulatedFlashEnvironment): void {
    const live = [...this.control.endpoints.values()].filter((e) => e.flashEnvironmentId === env.id);
    if (live.length) {
      throw new Error(
        `Flash environment ${env.name} still has endpoints (${live.map((e) => e.name).join(", ")}); delete them first`,
      );
    }
    this.environments.delete(env.id);
  }

  private appById(id: string): EmulatedFlashApp {
    const app = this.apps.get(id);
    if (!app) throw new Error(`Flash app not found: ${id}`);
    return app;
  }

  private envById(id: string): EmulatedFlashEnvironment {
    const env = this.environments.get(id);
    if (!env) throw new Error(`Flash environment not found: ${id}`);
    return env;
  }

  private buildById(id: string): EmulatedFlashBuild {
    const build = this.builds.get(id);
    if (!build) throw new Error(`Flash build not found: ${id}`);
    return build;
  }

  private appView(app: EmulatedFlashApp): unknown {
    return {
      ...app,
      flashEnvironments: () =>
        [...this.environments.values()].filter((e) => e.appId === app.id).map((e) => this.envView(e)),
      flashBuilds: () => [...this.builds.values()].filter((b) => b.appId === app.id).map((b) => this.buildView(b)),
    };
  }

  private envView(env: EmulatedFlashEnvironment): unknown {
    return {
      ...env,
      endpoints: () =>
        [...this.control.endpoints.values()]
          .filter((e) => e.flashEnvironmentId === env.id)
          .map((e) => ({ id: e.id, name: e.name })),
      networkVolumes: () => [],
      activeArtifact: () => {
        const build = env.activeBuildId ? this.builds.get(env.activeBuildId) : undefined;
        if (!build) return null;
        // A presigned GET, as `deployBuildToEnvironment` returns it (runpod/flash core/api/runpod.py selects
        // `activeArtifact { objectKey downloadUrl expiresAt }`).
        const expiresAt = new Date(Date.now() + UPLOAD_TTL_MS);
        const downloadUrl = `${this.baseUrl()}${UPLOAD_PREFIX}${encodeURIComponent(build.objectKey)}?X-Amz-Expires=${UPLOAD_TTL_MS / 1000}&X-Amz-Signature=${downloadToken(build)}`;
        return { objectKey: build.objectKey, downloadUrl, expiresAt: expiresAt.toISOString() };
      },
    };
  }

  private buildView(build: EmulatedFlashBuild): unknown {
    return { id: build.id, objectKey: build.objectKey, manifest: build.manifest, createdAt: build.createdAt };
  }
}
