/**
 * flash build: the deterministic artifact and the manifest; the tar writer/extractor; the emulator's Flash app
 * plane (presigned upload, finalize checks); worker logs over the v2 SSE routes and `flash logs`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLASHIGNORE } from "../../core/deploy/artifact";
import { buildSummary, runBuild } from "../../core/deploy/build";
import { checkStartCommands } from "../../core/doctor/start-check";
import { formatCost, workerHourly } from "../../core/deploy/cost";
import { RunpodCatalog } from "../../core/runpod/catalog";
import { RunpodRestV2 } from "../../core/runpod/rest-v2";
import { FlashAppClient } from "../../core/deploy/flash-app-client";
import { parseFrame, sinceTimestamp } from "../../core/deploy/logs";
import { readTar, tarGz } from "../../core/deploy/tar";
import { startEmulator } from "../../core/emulator/server";
import { RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";
import { makeWorkspace, REPO, removeDir, workerSource } from "../helpers/workspace";

const tmp = mkdtempSync(join(tmpdir(), "flash-build-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);

describe("flash build", () => {
  test("a deterministic artifact and a manifest of resources, functions by export name, routes and the mothership", async () => {
    const ws = makeWorkspace({}, "flash-build-");
    try {
      cpSync(join(REPO, "03_advanced_workers/05_load_balancer"), join(ws, "03_advanced_workers/05_load_balancer"), {
        recursive: true,
      });
      writeFileSync(join(ws, ".flashignore"), DEFAULT_FLASHIGNORE);
      writeFileSync(join(ws, ".env"), "SECRET=1\n");
      writeFileSync(join(ws, "03_advanced_workers/05_load_balancer/notes.local"), "private\n");
      writeFileSync(join(ws, ".gitignore"), "*.local\n");
      const first = await runBuild({ root: ws, app: "lb-app" });
      const bytes1 = readFileSync(first.artifactPath);
      const second = await runBuild({ root: ws, app: "lb-app" });
      expect(readFileSync(second.artifactPath).equals(bytes1)).toBe(true);
      expect(second.sha256).toBe(first.sha256);
      const m = JSON.parse(readFileSync(join(ws, ".flash", "flash_manifest.json"), "utf8"));
      expect(Object.keys(m.resources).sort()).toEqual(["03_05_cpu", "03_05_gpu", "lb-app-mothership"]);
      expect(m.resources["03_05_gpu"].functions.map((f: { name: string }) => f.name).sort()).toEqual([
        "compute",
        "gpuDeviceInfo",
        "gpuHealth",
      ]);
      expect(m.routes["03_05_gpu"]["POST /compute"]).toBe(
        "03_advanced_workers/05_load_balancer/workers/gpu/endpoint.ts#compute",
      );
      expect(m.routes["lb-app-mothership"]["POST /03_advanced_workers/05_load_balancer/gpu/compute"]).toBe(
        "03_advanced_workers/05_load_balancer",
      );
      expect(m.resources["lb-app-mothership"].is_mothership).toBe(true);
      expect(m.resources["03_05_cpu"].config_hash).toMatch(/^[0-9a-f]{32}$/);
      expect(m.function_registry["03_advanced_workers/05_load_balancer/workers/cpu/endpoint.ts#transform"]).toBe(
        "03_05_cpu",
      );
      const paths = readTar(new Uint8Array(bytes1)).map((e) => e.path);
      expect(paths).toContain("flash_manifest.json");
      expect(paths).toContain(".flash/runtime/worker/main.js");
      expect(paths).toContain(".flash/runtime/mothership.js");
      expect(paths.some((p) => p.endsWith(".env") || p.endsWith(".local") || p.endsWith(".test.ts"))).toBe(false);
      // A change in one resource's code changes its fingerprint only (and the mothership's, which imports it).
      const cpu = join(ws, "03_advanced_workers/05_load_balancer/workers/cpu/endpoint.ts");
      writeFileSync(cpu, `${readFileSync(cpu, "utf8")}\n// edited\n`);
      const third = await runBuild({ root: ws, app: "lb-app" });
      const m3 = third.manifest;
      expect(m3.resources["03_05_cpu"]!.source_fingerprint).not.toBe(m.resources["03_05_cpu"].source_fingerprint);
      expect(m3.resources["03_05_gpu"]!.source_fingerprint).toBe(m.resources["03_05_gpu"].source_fingerprint);
      expect(third.sha256).not.toBe(first.sha256);
    } finally {
      removeDir(ws);
    }
  }, 60_000);

  test("packages travel without their source maps and type declarations; a data file named .map stays", async () => {
    const ws = makeWorkspace(
      {
        "01_a/01_b/cpu_worker.ts": `import { answer } from "fakepkg";\n${workerSource("cpu", "pruned")}export const value = answer;\n`,
        "node_modules/fakepkg/package.json": JSON.stringify({ name: "fakepkg", version: "1.0.0", main: "index.js" }),
        "node_modules/fakepkg/index.js": "export const answer = 42;\n//# sourceMappingURL=index.js.map\n",
        "node_modules/fakepkg/index.js.map": "x".repeat(1000),
        "node_modules/fakepkg/index.d.ts": "export declare const answer: number;\n",
        "node_modules/fakepkg/lib/extra.d.mts": "export {};\n",
        "node_modules/fakepkg/lib/style.css.map": "{}",
        "node_modules/fakepkg/data/table.map": "a=1\n",
      },
      "flash-build-prune-",
    );
    try {
      const result = await runBuild({ root: ws, app: "prune-app" });
      const paths = readTar(new Uint8Array(readFileSync(result.artifactPath))).map((e) => e.path);
      const pkg = paths.filter((p) => p.startsWith("node_modules/fakepkg/")).sort();
      expect(pkg).toEqual([
        "node_modules/fakepkg/data/table.map",
        "node_modules/fakepkg/index.js",
        "node_modules/fakepkg/package.json",
      ]);
      expect(result.packages).toEqual(["fakepkg@1.0.0"]);
      expect(result.pruned).toEqual({ files: 4, bytes: 1000 + 38 + 10 + 2 });
      expect(buildSummary(result, ws)).toContain(
        "left out         4 source maps and type declarations of packages (1.0 KiB: no worker runs them)",
      );
    } finally {
      removeDir(ws);
    }
  }, 60_000);

  test("every template's start command, run from its image against the built artifact, gets a ready worker", async () => {
    // A CPU queue worker (oven/bun), a GPU queue worker (runpod/pytorch: Bun installed by the start command) and the
    // mothership (a CPU load balancer serving the unified app): each container must take a job or answer /ping 200.
    const ws = makeWorkspace({}, "flash-start-");
    try {
      for (const ex of ["01_getting_started/01_hello_world", "01_getting_started/02_cpu_worker"]) {
        cpSync(join(REPO, ex), join(ws, ex), { recursive: true, filter: (p) => !p.includes("node_modules") });
      }
      writeFileSync(join(ws, ".flashignore"), DEFAULT_FLASHIGNORE);
      const build = await runBuild({ root: ws, app: "start-app" });
      const checks = await checkStartCommands(build, { timeoutMs: 60_000 });
      const images = Object.fromEntries(checks.map((c) => [c.resource, c.image.replace(/:.*/, "")]));
      expect(Object.values(images).sort()).toEqual(["oven/bun", "oven/bun", "runpod/pytorch"]);
      for (const c of checks)
        expect({ resource: c.resource, ok: c.ok, detail: c.detail }).toEqual({
          resource: c.resource,
          ok: true,
          detail: undefined,
        });
      // Images built from worker/Dockerfile.* (FLASH_WORKER_IMAGE) start the same way: the mothership included.
      process.env.FLASH_WORKER_IMAGE = "docker.io/me/flash-worker:test";
      try {
        const built = await runBuild({ root: ws, app: "start-app" });
        const onImages = await checkStartCommands(built, { timeoutMs: 60_000 });
        expect(onImages.map((c) => c.image)).toEqual(onImages.map(() => "docker.io/me/flash-worker:test"));
        for (const c of onImages)
          expect({ resource: c.resource, ok: c.ok, detail: c.detail }).toEqual({
            resource: c.resource,
            ok: true,
            detail: undefined,
          });
      } finally {
        delete process.env.FLASH_WORKER_IMAGE;
      }
      const again = await runBuild({ root: ws, app: "start-app" });
      // Without the mount (what Runpod documents for its Flash images only), the mothership, which has a key,
      // fetches the environment's build from its download URL; a worker without one says what is missing.
      const unmounted = await checkStartCommands(again, { timeoutMs: 60_000, mount: false });
      const byName = Object.fromEntries(unmounted.map((c) => [c.resource, c]));
      expect(byName["start-app-mothership"]?.ok).toBe(true);
      const cpu = byName["01_02_cpu"]!;
      expect(cpu.ok).toBe(false);
      expect(cpu.detail).toContain("no artifact at /root/.runpod/artifact.tar.gz yet (attempt 1 of 3)");
      expect(cpu.detail).toContain("is this endpoint attached to a Flash environment with a deployed build");
    } finally {
      removeDir(ws);
    }
  }, 120_000);

  test("a module that fails to load stops the build and writes nothing", async () => {
    const ws = makeWorkspace({ "01_a/01_b/cpu_worker.ts": "throw new Error('boom at import');\n" }, "flash-build-bad-");
    try {
      await expect(runBuild({ root: ws })).rejects.toThrow(/boom at import/);
      expect(existsSync(join(ws, ".flash", "artifact.tar.gz"))).toBe(false);
    } finally {
      removeDir(ws);
    }
  });
});

describe("cost from Runpod's catalog", () => {
  test("the catalog's serverless prices win where it answers; a pool it does not price uses the table", async () => {
    const key = "rpa_catalog_cost_test_key_0000";
    const em = startEmulator({ apiKey: key });
    try {
      const catalog = new RunpodCatalog(new RunpodRestV2(new RunpodHttp(key, { attempts: 1 }), em.apiBaseUrl));
      const prices = await catalog.prices();
      expect(prices?.AMPERE_48).toBe(1.224); // GET /v2/catalog/gpus price.serverless of the pool's types
      expect(formatCost(workerHourly({ gpuIds: "AMPERE_48", gpuCount: 2 }, { AMPERE_48: 0.5 }))).toBe("$1.00");
      expect(formatCost(workerHourly({ gpuIds: "AMPERE_48,AMPERE_16" }, { AMPERE_48: 0.5 }))).toBe("$0.50–0.58");
      expect(await catalog.stockOf(["ADA_24", "NOPE"])).toBe("Runpod's catalog lists serverless stock ADA_24 HIGH");
      // A catalog that does not answer: no prices, and the caller keeps flash's table.
      em.fail({ status: 404, times: 1, path: "/v2/catalog/gpus" });
      const offline = new RunpodCatalog(new RunpodRestV2(new RunpodHttp(key, { attempts: 1 }), em.apiBaseUrl));
      expect(await offline.prices()).toBeUndefined();
      expect(formatCost(workerHourly({ gpuIds: "AMPERE_48" }, undefined))).toBe("$1.22");
    } finally {
      await em.stop();
    }
  });
});

describe("emulator Flash apps", () => {
  test("apps, environments, presigned upload (signature, size, gzip checks) and builds", async () => {
    const key = "rpa_flash_apps_test_key_1234";
    const em = startEmulator({ apiKey: key });
    try {
      const gql = new RunpodGraphql(new RunpodHttp(key), em.apiBaseUrl);
      const apps = new FlashAppClient(gql);
      expect(await apps.appByName("nope")).toBeUndefined();
      const app = await apps.createApp("demo");
      await expect(apps.createApp("demo")).rejects.toThrow(/already exists/);
      const env = await apps.createEnvironment(app.id, "production");
      expect(env.state).toBe("PENDING");
      const artifact = tarGz([{ path: "x.txt", type: "file", data: enc("x") }]);
      const buildId = await apps.uploadBuild(app.id, artifact, { version: "flash-1" });
      await apps.deployBuild(env.id, buildId);
      const fresh = await apps.environment(env.id);
      expect(fresh.activeBuildId).toBe(buildId);
      expect((await apps.build(buildId)).manifest).toEqual({ version: "flash-1" });
      // The presigned URL is the credential: a wrong signature is S3's 403, a short body 400.
      const prep = await gql.request<{ prepareFlashArtifactUpload: { uploadUrl: string; objectKey: string } }>(
        "mutation($i: PrepareFlashArtifactUploadInput!) { prepareFlashArtifactUpload(input: $i) { uploadUrl objectKey } }",
        { i: { flashAppId: app.id, tarballSize: 10 } },
      );
      const url = prep.prepareFlashArtifactUpload.uploadUrl;
      const forged = url.replace(/X-Amz-Signature=[^&]+/, "X-Amz-Signature=forged");
      expect((await fetch(forged, { method: "PUT", body: new Uint8Array(10) })).status).toBe(403);
      expect((await fetch(url, { method: "PUT", body: new Uint8Array(3) })).status).toBe(400);
      expect((await fetch(url, { method: "PUT", body: new Uint8Array(10) })).status).toBe(200);
      await expect(
        gql.request(
          "mutation($i: FinalizeFlashArtifactUploadInput!) { finalizeFlashArtifactUpload(input: $i) { id } }",
          {
            i: { flashAppId: app.id, objectKey: prep.prepareFlashArtifactUpload.objectKey, manifest: {} },
          },
        ),
      ).rejects.toThrow(/not a gzip file/);
      expect((await apps.listApps()).map((a) => a.name)).toEqual(["demo"]);
      await apps.deleteEnvironment(env.id);
      await apps.deleteApp(app.id);
      expect(await apps.listApps()).toEqual([]);
    } finally {
      await em.stop();
    }
  }, 30_000);
});

describe("worker logs", () => {
  test("v2 SSE frames {source, line, ts} with ids; tail, source and Last-Event-ID; 422 on a bad tail", async () => {
    const key = "rpa_logs_test_key_123456789";
    const em = startEmulator({ apiKey: key });
    try {
      const saved = await em.control.execute(
        'mutation { saveTemplate(input: { name: "t-logs", imageName: "some/image:1", containerDiskInGb: 5, volumeInGb: 0, env: [] }) { id } }',
      );
      const templateId = (saved.body.data as { saveTemplate: { id: string } }).saveTemplate.id;
      const ep = await em.control.execute(
        `mutation { saveEndpoint(input: { name: "logs-ep", templateId: "${templateId}", workersMax: 0 }) { id } }`,
      );
      const endpointId = (ep.body.data as { saveEndpoint: { id: string } }).saveEndpoint.id;
      const worker = { id: "wkr0000000001", endpointId };
      em.logs.record(worker, "system", "create container logs-ep");
      for (let i = 0; i < 5; i++) em.logs.record(worker, "container", `line ${i}`);
      const base = `${em.url}/v2/serverless/${endpointId}/workers/${worker.id}/logs`;
      /** The frames of a log stream, read until `frames` complete ones arrived (the stream stays open). */
      const read = async (query: string, frames: number, headers: Record<string, string> = {}) => {
        const res = await fetch(`${base}${query}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
        expect(res.headers.get("content-type")).toContain("text/event-stream");
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        const complete = () => text.split("\n\n").filter((f, i, all) => i < all.length - 1 && f.includes("data:"));
        while (complete().length < frames) {
          const chunk = await reader.read();
          if (chunk.done) break;
          text += chunk.value;
        }
        await reader.cancel();
        return complete().map((f) => ({
          id: /id: (\d+)/.exec(f)![1],
          ...parseFrame(/data: (.*)/.exec(f)![1]!, worker.id),
        }));
      };
      const all = await read("", 6);
      expect(all.map((f) => f.line)).toEqual([
        "create container logs-ep",
        "line 0",
        "line 1",
        "line 2",
        "line 3",
        "line 4",
      ]);
      expect(all[0]!.source).toBe("system");
      expect(all[1]!.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect((await read("?tail=2", 2)).map((f) => f.line)).toEqual(["line 3", "line 4"]);
      expect((await read("?source=system", 1)).map((f) => f.line)).toEqual(["create container logs-ep"]);
      expect((await read("", 1, { "last-event-id": all[4]!.id })).map((f) => f.line)).toEqual(["line 4"]);
      const bad = await fetch(`${base}?tail=5001`, { headers: { authorization: `Bearer ${key}` } });
      expect(bad.status).toBe(422);
      const none = await fetch(`${em.url}/v2/serverless/${endpointId}/workers/nosuchworker/logs`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(none.status).toBe(404);
      expect(sinceTimestamp("30m", Date.parse("2026-01-01T01:00:00Z"))).toBe("2026-01-01T00:30:00.000Z");
      // The same duration syntax as every other flag: milliseconds too.
      expect(sinceTimestamp("500ms", Date.parse("2026-01-01T01:00:00Z"))).toBe("2026-01-01T00:59:59.500Z");
      expect(() => sinceTimestamp("soon")).toThrow(/--since/);
    } finally {
      await em.stop();
    }
  }, 30_000);
});
