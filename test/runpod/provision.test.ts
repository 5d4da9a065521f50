/**
 * Provisioning through GraphQL against the emulator: the Python original's field mapping, idempotency across
 * runs (state file + config hash), update on config change, `live-` cleanup with its summary, and `flash run`
 * refusing the runpod target without a key.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startEmulator, type Emulator } from "../../core/emulator/server";
import { CpuLiveServerless, LiveLoadBalancer, LiveServerless } from "../../core/remote/config";
import { CpuInstanceType, CudaVersion, GpuGroup, GpuType } from "../../core/remote/enums";
import { RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";
import { configHash, mapConfig } from "../../core/runpod/mapping";
import { Provisioner } from "../../core/runpod/provision";
import { RunpodTarget } from "../../core/runpod/runpod-target";

const KEY = "rpa_provision_test_key_000000000000";
let em: Emulator;
let tmp: string;

beforeAll(() => {
  em = startEmulator({ apiKey: KEY, workers: { command: ["sleep", "30"] } });
});
afterAll(async () => {
  await em.stop();
});
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  for (const id of [...em.control.endpoints.keys()]) em.control.endpoints.delete(id);
  for (const id of [...em.control.templates.keys()]) em.control.templates.delete(id);
  em.control.requireZeroWorkersToDelete = false;
});

function provisioner(live: boolean, statePath?: string): Provisioner {
  tmp ||= mkdtempSync(join(tmpdir(), "flash-prov-"));
  return new Provisioner({
    graphql: new RunpodGraphql(new RunpodHttp(KEY, { attempts: 2, baseDelayMs: 10 }), em.apiBaseUrl),
    statePath: statePath ?? join(tmp, ".flash", "resources.json"),
    apiBaseUrl: em.apiBaseUrl,
    live,
  });
}

describe("mapping a resource config (flash-sdk.md §3.5)", () => {
  test("a GPU live config", () => {
    const cfg = new LiveServerless({
      name: "gpu_worker",
      gpus: [GpuType.NVIDIA_L4],
      workersMax: 2,
      cudaVersions: [CudaVersion.V12_4],
      env: { MODE: "x" },
    });
    const m = mapConfig(cfg, true, { FLASH_WORKER_IMAGE: "me/flash-worker:gpu-1" });
    expect(m.name).toBe("live-gpu_worker-fb");
    expect(m.endpoint).toMatchObject({
      name: "live-gpu_worker-fb",
      type: "QB",
      gpuCount: 1,
      workersMin: 0,
      workersMax: 2,
      idleTimeout: 5,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      flashBootType: "FLASHBOOT",
      allowedCudaVersions: "12.4",
      locations: "EU-RO-1",
    });
    expect(m.endpoint.gpuIds).toBe("AMPERE_24,-NVIDIA GeForce RTX 3090,-NVIDIA RTX A5000");
    expect(m.endpoint.instanceIds).toBeUndefined();
    expect(m.template).toMatchObject({
      imageName: "me/flash-worker:gpu-1",
      containerDiskInGb: 64,
      volumeInGb: 0,
      env: [{ key: "MODE", value: "x" }],
      isServerless: true,
    });
  });

  test("CPU and load-balancer configs; imageName wins over FLASH_WORKER_IMAGE", () => {
    const cpu = mapConfig(
      new CpuLiveServerless({ name: "cpu_worker", instanceIds: [CpuInstanceType.CPU3C_2_4], flashboot: false }),
      false,
      {},
    );
    expect(cpu.name).toBe("cpu_worker");
    expect(cpu.endpoint).toMatchObject({ gpuIds: "", instanceIds: ["cpu3c-2-4"] });
    expect(cpu.endpoint.gpuCount).toBeUndefined();
    expect(cpu.endpoint.flashBootType).toBeUndefined();
    expect(cpu.template.containerDiskInGb).toBe(20);
    expect(cpu.template.imageName).toBe("flash-worker:cpu");
    const lb = mapConfig(new LiveLoadBalancer({ name: "api", gpus: [GpuGroup.ADA_24], imageName: "mine:1" }), true, {
      FLASH_WORKER_IMAGE: "other:2",
    });
    expect(lb.endpoint).toMatchObject({
      type: "LB",
      scalerType: "REQUEST_COUNT",
      gpuIds: "ADA_24",
      name: "live-api-fb",
    });
    expect(lb.template.imageName).toBe("mine:1");
    const env = { FLASH_WORKER_IMAGE: "all:1", FLASH_WORKER_IMAGE_CPU: "cpu:1" };
    expect(mapConfig(new CpuLiveServerless({ name: "c" }), true, env).template.imageName).toBe("cpu:1");
    expect(mapConfig(new LiveServerless({ name: "g" }), true, env).template.imageName).toBe("all:1");
  });

  test("the config hash changes with any sent field and only then", () => {
    const a = configHash(mapConfig(new LiveServerless({ name: "w", workersMax: 3 }), true, {}));
    expect(configHash(mapConfig(new LiveServerless({ name: "w", workersMax: 3 }), true, {}))).toBe(a);
    expect(configHash(mapConfig(new LiveServerless({ name: "w", workersMax: 4 }), true, {}))).not.toBe(a);
  });
});

describe("idempotent provisioning", () => {
  test("a second run reuses the endpoint; a changed config updates it in place; nothing is created twice", async () => {
    const first = provisioner(false);
    const cfg = new CpuLiveServerless({ name: "01_02_cpu", workersMax: 2 });
    const a = await first.ensure(cfg);
    const again = await first.ensure(cfg);
    expect(again.endpointId).toBe(a.endpointId);
    expect(first.counts).toEqual({ created: 1, updated: 0, reused: 0, deleted: 0 });

    const state = JSON.parse(readFileSync(join(tmp, ".flash", "resources.json"), "utf8"));
    expect(state.resources["01_02_cpu-fb"]).toMatchObject({ endpointId: a.endpointId, live: false, type: "QB" });
    expect(state.resources["01_02_cpu-fb"].configHash).toHaveLength(32);

    // A second run (new process = new provisioner, same state file).
    const second = provisioner(false);
    expect((await second.ensure(new CpuLiveServerless({ name: "01_02_cpu", workersMax: 2 }))).endpointId).toBe(
      a.endpointId,
    );
    expect(second.counts).toEqual({ created: 0, updated: 0, reused: 1, deleted: 0 });

    // A third run with a changed config: same endpoint, updated.
    const third = provisioner(false);
    const changed = await third.ensure(new CpuLiveServerless({ name: "01_02_cpu", workersMax: 5, idleTimeout: 30 }));
    expect(changed.endpointId).toBe(a.endpointId);
    expect(third.counts).toEqual({ created: 0, updated: 1, reused: 0, deleted: 0 });
    const endpoint = em.control.endpoints.get(a.endpointId)!;
    expect(endpoint.workersMax).toBe(5);
    expect(endpoint.idleTimeout).toBe(30);
    expect(em.control.endpoints.size).toBe(1);
  });

  test("concurrent first calls for one config create one endpoint", async () => {
    const p = provisioner(true);
    const cfg = new LiveServerless({ name: "burst" });
    const results = await Promise.all(Array.from({ length: 8 }, () => p.ensure(cfg)));
    expect(new Set(results.map((r) => r.endpointId)).size).toBe(1);
    expect(em.control.endpoints.size).toBe(1);
  });

  test("an endpoint deleted behind our back is provisioned again; a lost state file adopts the existing endpoint", async () => {
    const p = provisioner(false);
    const cfg = new CpuLiveServerless({ name: "gone" });
    const first = await p.ensure(cfg);
    em.control.endpoints.delete(first.endpointId);
    const recreated = await provisioner(false).ensure(cfg);
    expect(recreated.endpointId).not.toBe(first.endpointId);
    rmSync(join(tmp, ".flash"), { recursive: true, force: true });
    const adopted = provisioner(false);
    expect((await adopted.ensure(cfg)).endpointId).toBe(recreated.endpointId);
    expect(adopted.counts.created).toBe(0);
    expect(em.control.endpoints.size).toBe(1);
  });

  test("an unreadable state file is ignored, not fatal", async () => {
    tmp = mkdtempSync(join(tmpdir(), "flash-prov-"));
    const path = join(tmp, "broken.json");
    writeFileSync(path, "{ not json");
    const p = provisioner(false, path);
    const r = await p.ensure(new CpuLiveServerless({ name: "fresh" }));
    expect(r.endpointId).toMatch(/^[a-z0-9]{14}$/);
    expect(JSON.parse(readFileSync(path, "utf8")).resources["fresh-fb"].endpointId).toBe(r.endpointId);
  });
});

describe("live- endpoints are removed on shutdown", () => {
  test("cleanup deletes the session's live endpoints and reports removed N, failed M", async () => {
    const p = provisioner(true);
    await p.ensure(new LiveServerless({ name: "a" }));
    await p.ensure(new CpuLiveServerless({ name: "b" }));
    expect([...em.control.endpoints.values()].map((e) => e.name).sort()).toEqual(["live-a-fb", "live-b-fb"]);
    const summary = await p.cleanup();
    expect(summary).toEqual({ removed: 2, failed: 0, errors: [] });
    expect(em.control.endpoints.size).toBe(0);
    expect(em.control.templates.size).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp, ".flash", "resources.json"), "utf8")).resources).toEqual({});
  });

  test("a removal that fails is counted, and the target's shutdown rejects with the summary", async () => {
    tmp = mkdtempSync(join(tmpdir(), "flash-prov-"));
    const target = new RunpodTarget({
      name: "emulator",
      apiKey: KEY,
      root: tmp,
      retry: { attempts: 1 },
      urls: { apiBaseUrl: em.apiBaseUrl, endpointBaseUrl: em.endpointBaseUrl, lbBaseUrl: em.lbBaseUrl },
    });
    await target.provisioner.ensure(new LiveServerless({ name: "stuck", workersMax: 1 }));
    await target.provisioner.ensure(new LiveServerless({ name: "fine", workersMax: 1 }));
    const stuck = [...em.control.endpoints.values()].find((e) => e.name === "live-stuck-fb")!;
    em.control.requireZeroWorkersToDelete = true; // the documented rule: min and max workers must be 0 first
    const fine = [...em.control.endpoints.values()].find((e) => e.name === "live-fine-fb")!;
    fine.workersMax = 0;
    const error = await target.shutdown().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe("emulator: removed 1 live endpoint, failed 1");
    expect(em.control.endpoints.has(stuck.id)).toBe(true);
    expect(em.control.endpoints.has(fine.id)).toBe(false);
    // Shutdown is idempotent: a second call reports the same outcome without deleting again.
    expect(
      await target.shutdown().then(
        () => "ok",
        (e: Error) => e.message,
      ),
    ).toBe("emulator: removed 1 live endpoint, failed 1");
  });
});

describe("flash run --target", () => {
  test("runpod without RUNPOD_API_KEY refuses to start and says where to create a key", async () => {
    tmp = mkdtempSync(join(tmpdir(), "flash-nokey-"));
    const env = { ...process.env, RUNPOD_API_KEY: "", FLASH_TARGET: "runpod", FLASH_PORT: "0" };
    const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "../../cli.ts"), "run", tmp], {
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(code).toBe(1);
    expect(out + err).toContain("RUNPOD_API_KEY is not set");
    expect(out + err).toContain("console.runpod.io");
  });

  test("an unknown target is rejected", async () => {
    tmp = mkdtempSync(join(tmpdir(), "flash-badtarget-"));
    const proc = Bun.spawn(
      [process.execPath, resolve(import.meta.dir, "../../cli.ts"), "run", tmp, "--target", "mars"],
      { env: { ...process.env, FLASH_PORT: "0" }, stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(code).toBe(1);
    expect(out + err).toContain('Unknown target "mars"');
  });
});
