/**
 * What only a real key settles about the Flash plane (apps, environments, builds), probed with a throwaway app.
 */
import { DEFAULT_CPU_IMAGE } from "../runpod/mapping";
import { DEFAULT_EXECUTION_TIMEOUT_MS } from "../runpod/platform";
import { RunpodHttp, redact } from "../runpod/http";
import { type Conn, type DoctorCreated, restOf } from "./shared";

/**
 * What only a real key settles about the Flash plane (no public source does): whether Runpod mounts a deployed
 * build at /root/.runpod/artifact.tar.gz into a stock image (its docs describe it for the Flash images only:
 * docs flash/apps/apps-and-environments.mdx), how soon, and at what size; whether the environment lists an endpoint
 * saved with `flashEnvironmentId` at once; whether a build's manifest comes back as sent; what
 * `deleteFlashEnvironment` does with attached endpoints. One CPU worker on `oven/bun` that only lists the folder.
 * The Flash plane exists only in GraphQL (runpod/flash core/api/runpod.py): without it, the questions stay open.
 */
export async function probeFlashPlane(
  conn: Conn,
  tag: string,
  created: DoctorCreated,
  waitMs: number,
): Promise<string[]> {
  const { RunpodGraphql } = await import("../runpod/graphql");
  const { FlashAppClient } = await import("../deploy/flash-app-client");
  const gql = new RunpodGraphql(new RunpodHttp(conn.key), conn.apiBaseUrl);
  const apps = new FlashAppClient(gql);
  let app: { id: string };
  try {
    app = await apps.createApp(`flash_doctor_app_${tag}`);
  } catch (error) {
    return [`(flash) not settled: creating a Flash app failed (${redact((error as Error).message, conn.key)})`];
  }
  created.apps.add(app.id);
  const out: string[] = [];
  let saved: { id: string } | undefined;
  try {
    const env = await apps.createEnvironment(app.id, "doctor");
    const { tarGz } = await import("../deploy/tar");
    const tarball = tarGz([
      { path: "doctor.txt", type: "file", data: new TextEncoder().encode(`flash doctor ${tag}\n`) },
    ]);
    const manifest = { version: "flash-1", project_name: `flash_doctor_${tag}`, resources: {} };
    const buildId = await apps.uploadBuild(app.id, tarball, manifest);
    const stored = (await apps.build(buildId)).manifest;
    const same = JSON.stringify(typeof stored === "string" ? JSON.parse(stored) : stored) === JSON.stringify(manifest);
    out.push(
      `(flash) a build's manifest in flash's shape is accepted and comes back ${same ? "unchanged" : "CHANGED"}`,
    );
    await apps.deployBuild(env.id, buildId);
    out.push(await probeDownloadUrl(gql, env.id, tarball.length));
    // The start command only lists the folder every 2 s for 2 minutes (the prefix is empty on Runpod).
    const start =
      `sh -c 'for i in $(seq 60); do echo "doctor t=$(( (i - 1) * 2 ))s"; ` +
      `ls -lL "$FLASH_CONTAINER_ROOT/root/.runpod/" 2>&1; sleep 2; done'`;
    const template = await gql.saveTemplate({
      name: `flash_doctor_mount_${tag}__tpl`,
      imageName: DEFAULT_CPU_IMAGE,
      containerDiskInGb: 5,
      volumeInGb: 0,
      dockerArgs: start,
      env: [],
      isServerless: true,
    });
    saved = await gql.saveEndpoint({
      name: `flash_doctor_mount_${tag}`,
      templateId: template.id,
      instanceIds: ["cpu3c-2-4"],
      type: "QB",
      workersMin: 1,
      workersMax: 1,
      idleTimeout: 5,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      executionTimeoutMs: DEFAULT_EXECUTION_TIMEOUT_MS,
      workersPFBTarget: 0,
      flashEnvironmentId: env.id,
    });
    created.endpoints.add(saved.id);
    const endpointId = saved.id;
    const listed = (await apps.environment(env.id)).endpoints ?? [];
    out.push(
      `(flash) flashEnvironment.endpoints ${listed.some((e) => e.id === endpointId) ? "lists" : "does NOT list"} an endpoint saved with flashEnvironmentId, at once`,
    );
    const { LogClient } = await import("../deploy/logs");
    const logs = new LogClient(conn.key, `${conn.apiBaseUrl.replace(/\/+$/, "")}/v2`);
    const deadline = Date.now() + waitMs;
    let seen: string | undefined;
    let lines: string[] = [];
    while (!seen && Date.now() < deadline) {
      lines = [];
      for (const w of await logs.workers(endpointId).catch(() => [])) {
        await logs
          .stream(endpointId, w.id, { tail: 500, quietMs: 300, maxWaitMs: 2000 }, (e) => lines.push(e.line))
          .catch(() => undefined);
      }
      const at = lines.findIndex((l) => l.includes("artifact.tar.gz"));
      if (at >= 0) {
        const when =
          lines
            .slice(0, at)
            .findLast((l) => l.startsWith("doctor t="))
            ?.slice(9) ?? "?";
        const size = lines[at]!.trim().split(/\s+/)[4];
        seen = `after ${when} of the start command, ${size} bytes (sent ${tarball.length})`;
      } else await Bun.sleep(1000);
    }
    out.push(
      seen
        ? `(flash) the artifact IS mounted into a stock image (oven/bun) at /root/.runpod/artifact.tar.gz: ${seen}`
        : `(flash) NO artifact at /root/.runpod/artifact.tar.gz in a stock image within ${Math.round(waitMs / 1000)} s ` +
            `(${lines.length} log lines): deployed workers must fetch their build (activeArtifact.downloadUrl); only ` +
            "the mothership has a key to ask for it, so every other deployed resource cannot start",
    );
    const refused = await apps.deleteEnvironment(env.id).then(
      () => undefined,
      (error: Error) => redact(error.message, conn.key),
    );
    out.push(
      `(flash) deleteFlashEnvironment with an endpoint attached: ${refused ? `refused: "${refused}"` : "accepted"}`,
    );
  } catch (error) {
    // saveTemplate/saveEndpoint with flashEnvironmentId exist only in GraphQL (retired here, or refused).
    out.push(`(flash) not settled: ${redact((error as Error).message, conn.key)}`);
  } finally {
    // Teardown: the endpoint (its template with it, through REST v2); the app takes its environment and build along.
    if (saved) {
      await restOf(conn).deleteEndpoint(saved.id);
      created.endpoints.delete(saved.id);
    }
    await apps.deleteApp(app.id);
    created.apps.delete(app.id);
  }
  return out;
}

/**
 * Can a worker without a key fetch the environment's build? Runpod's own Flash worker never fetches it: it unpacks
 * only the mounted file (runpod-workers/worker-tetra src/unpack_volume.py), and runpod/flash gives the key only to
 * endpoints that make remote calls (runtime/resource_provisioner.py). The presigned `activeArtifact.downloadUrl`
 * needs no key, but asking for it does, and it expires: how long it lives decides whether a deploy could hand it
 * to every worker in its env.
 */
async function probeDownloadUrl(
  gql: import("../runpod/graphql").RunpodGraphql,
  envId: string,
  size: number,
): Promise<string> {
  const data = await gql.request<{
    flashEnvironment: { activeArtifact?: { downloadUrl?: string; expiresAt?: string } | null } | null;
  }>(
    "query e($id: String!) { flashEnvironment(flashEnvironmentId: $id) { activeArtifact { downloadUrl expiresAt } } }",
    { id: envId },
  );
  const artifact = data.flashEnvironment?.activeArtifact;
  if (!artifact?.downloadUrl) return "(flash) the environment's activeArtifact has no downloadUrl";
  const res = await fetch(artifact.downloadUrl).catch((error: Error) => error);
  const got = res instanceof Error ? `fails (${res.message})` : `answers HTTP ${res.status}`;
  const bytes = res instanceof Error || !res.ok ? 0 : (await res.arrayBuffer()).byteLength;
  const lives = artifact.expiresAt ? Math.round((Date.parse(artifact.expiresAt) - Date.now()) / 60_000) : undefined;
  return (
    `(flash) activeArtifact.downloadUrl without a key ${got}${bytes ? ` with the build (${bytes} of ${size} bytes)` : ""}; ` +
    `it expires ${lives === undefined ? "(no expiresAt)" : `in about ${lives} min`}: a worker without a key can fetch ` +
    `the build only while that URL lives`
  );
}
