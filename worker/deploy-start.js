// flash's deployed-worker launcher: the code a deployed template carries (base64 in FLASH_DEPLOY_START, run by its
// start command before the artifact's runtime). It puts the build into /app: from the artifact Runpod mounts at
// /root/.runpod/artifact.tar.gz, waiting for it as worker-flash does (3 attempts, 30 s apart:
// runpod-workers/worker-flash src/constants.py DEFAULT_TARBALL_UNPACK_ATTEMPTS/_INTERVAL, src/unpack_volume.py);
// else, with a key, from the environment's active build (`flashEnvironment { activeArtifact { downloadUrl } }`, the
// presigned URL `deployBuildToEnvironment` returns: runpod/flash core/api/runpod.py). Plain JavaScript with no imports
// beyond Bun and node: it runs on a stock image before anything of flash is there.
// Every container path is prefixed with FLASH_CONTAINER_ROOT, which only the emulator sets (its container's "/").
import { existsSync, mkdirSync } from "node:fs";

const env = process.env;
const root = env.FLASH_CONTAINER_ROOT || "";
const artifact = `${root}/root/.runpod/artifact.tar.gz`;
const app = `${root}/app`;
const say = (line) => process.stderr.write(`[flash deploy ${env.FLASH_RESOURCE_NAME || ""}] ${line}\n`);
const attempts = 3;
const intervalMs = Number(env.FLASH_ARTIFACT_WAIT_MS || 30_000);

/** The environment's active build, fetched with the template's key; false when there is no way to. */
async function fetchBuild() {
  const key = env.RUNPOD_API_KEY;
  const id = env.FLASH_ENVIRONMENT_ID;
  if (!key || !id) return false;
  const api = `${(env.RUNPOD_API_BASE_URL || "https://api.runpod.io").replace(/\/+$/, "")}/graphql`;
  const query =
    "query e($id: String!) { flashEnvironment(flashEnvironmentId: $id) { activeArtifact { downloadUrl } } }";
  for (let i = 1; i <= 3; i++) {
    try {
      const res = await fetch(api, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query, variables: { id } }),
      });
      const url = (await res.json())?.data?.flashEnvironment?.activeArtifact?.downloadUrl;
      if (!url) throw new Error(`environment ${id} has no active build with a download URL (HTTP ${res.status})`);
      const tarball = await fetch(url);
      if (!tarball.ok) throw new Error(`downloading the build: HTTP ${tarball.status}`);
      mkdirSync(`${root}/root/.runpod`, { recursive: true });
      await Bun.write(artifact, tarball);
      say(`no artifact was mounted: fetched the environment's active build (${Bun.file(artifact).size} bytes)`);
      return true;
    } catch (error) {
      say(`fetching the build (try ${i} of 3): ${error.message}`);
      await Bun.sleep(1000 * i);
    }
  }
  return false;
}

if (existsSync(`${app}/flash_manifest.json`)) process.exit(0); // unpacked before (a FlashBoot restart)
for (let i = 1; !existsSync(artifact) && i < attempts; i++) {
  say(`no artifact at /root/.runpod/artifact.tar.gz yet (attempt ${i} of ${attempts}); next in ${intervalMs / 1000} s`);
  await Bun.sleep(intervalMs);
}
if (!existsSync(artifact) && !(await fetchBuild())) {
  say(
    "no artifact at /root/.runpod/artifact.tar.gz and no way to fetch the build: is this endpoint attached to a " +
      "Flash environment with a deployed build (flash deploy)? Runpod documents the mount for its Flash images only.",
  );
  process.exit(1);
}
mkdirSync(app, { recursive: true });
const untar = Bun.spawnSync(["tar", "-xzf", artifact, "-C", app], { stdout: "inherit", stderr: "inherit" });
if (untar.exitCode !== 0) {
  say(`unpacking ${artifact} failed (tar exit ${untar.exitCode})`);
  process.exit(1);
}
