/**
 * Provisioning through REST v2 against the emulator: the field mapping of runpod/flash (Python), idempotency across
 * runs (state file + config hash), update on config change, `live-` cleanup with its summary, and `flash run`
 * refusing the runpod target without a key.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { log } from "../../core/base/log";
import { startEmulator, type Emulator } from "../../core/emulator/server";
import { CpuLiveLoadBalancer, CpuLiveServerless, LiveServerless, NetworkVolume } from "../../core/remote/config";
import { applyPlan } from "../../core/deploy/apply";
import { CpuInstanceType } from "../../core/remote/enums";
import { RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";
import { configHash, mapConfig } from "../../core/runpod/mapping";
import { Provisioner } from "../../core/runpod/provision";
import { RunpodRestV2 } from "../../core/runpod/rest-v2";
import { RunpodTarget } from "../../core/runpod/runpod-target";
import { workerProgram } from "../../core/runpod/worker-program";

const KEY = "rpa_provision_test_key_000000000000";
const WS = "0123456789abcdef";
let em: Emulator;
let tmp: string;
// Workers of endpoints with a volume get its folder: here, never in the repository's .flash/volumes.
const volumesDir = mkdtempSync(join(tmpdir(), "flash-prov-volumes-"));

beforeAll(() => {
  // The stock images' containers just wait: these tests look at what provisioning sends, not at workers.
  const idle = ["sleep", "30"];
  em = startEmulator({
    apiKey: KEY,
    workers: { images: { "oven/bun": idle, "runpod/pytorch": idle, "me/flash-worker": idle }, volumesDir },
  });
});
afterAll(async () => {
  await em.stop();
  rmSync(volumesDir, { recursive: true, force: true });
});
afterEach(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  for (const id of [...em.control.endpoints.keys()]) em.control.endpoints.delete(id);
  for (const id of [...em.control.templates.keys()]) em.control.templates.delete(id);
  em.control.volumes.clear();
  em.control.requireZeroWorkersToDelete = true;
  em.control.templateDeleteDelayMs = 120_000;
});

function provisioner(live: boolean, statePath?: string): Provisioner {
  tmp ||= mkdtempSync(join(tmpdir(), "flash-prov-"));
  return new Provisioner({
    rest: new RunpodRestV2(new RunpodHttp(KEY, { attempts: 2, baseDelayMs: 10 }), em.apiBaseUrl),
    statePath: statePath ?? join(tmp, ".flash", "resources.json"),
    apiBaseUrl: em.apiBaseUrl,
    live,
    workspace: WS,
    program: workerProgram,
  });
}

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
    // REST v2 deletes an endpoint with its bound template: nothing lingers, nothing is left pending.
    expect(em.control.templates.size).toBe(0);
    const state = JSON.parse(readFileSync(join(tmp, ".flash", "resources.json"), "utf8"));
    expect(state.resources).toEqual({});
    expect(state.pendingTemplates).toBeUndefined();
  });

  test("templates a GraphQL-era session left pending are deleted by name through REST v2", async () => {
    const p = provisioner(true);
    await p.ensure(new CpuLiveServerless({ name: "warmup" })); // writes the state file
    const old = em.control.saveTemplate({ name: "live-old-fb__1234abcd", imageName: "x", containerDiskInGb: 10 });
    const path = join(tmp, ".flash", "resources.json");
    const state = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(path, JSON.stringify({ ...state, pendingTemplates: [old.name] }));
    expect(await provisioner(true).deletePendingTemplates()).toBe(1);
    expect(em.control.templates.has(old.id)).toBe(false);
    expect(JSON.parse(readFileSync(path, "utf8")).pendingTemplates).toBeUndefined();
    await p.cleanup();
  });

  test("teardown needs no scale to zero: REST v2 deletes an endpoint that still has workers", async () => {
    em.control.requireZeroWorkersToDelete = true;
    const p = provisioner(true);
    await p.ensure(new CpuLiveServerless({ name: "warm", workersMin: 1, workersMax: 2 }));
    expect(await p.cleanup()).toEqual({ removed: 1, failed: 0, errors: [] });
    expect(em.control.endpoints.size).toBe(0);
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
    const fine = [...em.control.endpoints.values()].find((e) => e.name === "live-fine-fb")!;
    em.fail({ status: 400, times: 1, path: "/v2/serverless/", method: "DELETE" }); // the first removal fails
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

describe("fidelity to the real platform", () => {
  const templateEnvOf = (endpointId: string) => {
    const e = em.control.endpoints.get(endpointId)!;
    return Object.fromEntries(em.control.templates.get(e.templateId)!.env.map((v) => [v.key, v.value]));
  };

  test("after a config change the LB template still has PORT, PORT_HEALTH and the worker mode", async () => {
    const p = provisioner(true);
    const { endpointId } = await p.ensure(new CpuLiveLoadBalancer({ name: "lbapi", env: { A: "1" } }));
    expect(templateEnvOf(endpointId)).toMatchObject({ PORT: "80", PORT_HEALTH: "80", FLASH_WORKER_MODE: "lb" });
    const changed = await provisioner(true).ensure(new CpuLiveLoadBalancer({ name: "lbapi", env: { A: "2" } }));
    expect(changed.endpointId).toBe(endpointId);
    expect(templateEnvOf(endpointId)).toMatchObject({ PORT: "80", PORT_HEALTH: "80", FLASH_WORKER_MODE: "lb", A: "2" });
  });

  test("a change of endpoint fields alone keeps the template (no saveTemplate, no rolling release)", async () => {
    const p = provisioner(false);
    const a = await p.ensure(new CpuLiveServerless({ name: "roll", workersMax: 2 }));
    const templateId = em.control.endpoints.get(a.endpointId)!.templateId;
    const q = provisioner(false);
    await q.ensure(new CpuLiveServerless({ name: "roll", workersMax: 4 }));
    expect(q.counts.updated).toBe(1);
    expect(q.templateSaves).toBe(0);
    expect(em.control.endpoints.get(a.endpointId)!).toMatchObject({ templateId, workersMax: 4 });
    const r = provisioner(false);
    await r.ensure(new CpuLiveServerless({ name: "roll", workersMax: 4, env: { NEW: "1" } }));
    expect(r.templateSaves).toBe(1);
  });

  test("an endpoint of the same name that this workspace did not create is never adopted", async () => {
    const p = provisioner(false);
    const theirs = await p.ensure(new CpuLiveServerless({ name: "shared_name" }));
    // Another workspace (another marker, no state file) with a config of the same name.
    const other = new Provisioner({
      rest: new RunpodRestV2(new RunpodHttp(KEY, { attempts: 2, baseDelayMs: 10 }), em.apiBaseUrl),
      statePath: join(tmp, "other", "resources.json"),
      apiBaseUrl: em.apiBaseUrl,
      live: false,
      workspace: "fedcba9876543210",
      program: workerProgram,
    });
    const err = await other
      .ensure(new CpuLiveServerless({ name: "shared_name", workersMax: 1 }))
      .catch((e: Error) => e);
    expect((err as Error).message).toContain("flash will not take it over");
    expect(em.control.endpoints.get(theirs.endpointId)!.workersMax).toBe(3); // untouched
    expect(em.control.endpoints.size).toBe(1);
  });

  test("an endpoint removed at the end of a session can be created again at once (no template name to clash)", async () => {
    const p = provisioner(true);
    const cfg = new CpuLiveServerless({ name: "again" });
    await p.ensure(cfg);
    em.control.templateDeleteDelayMs = 60_000;
    await p.cleanup();
    expect(em.control.templates.size).toBe(0);
    rmSync(join(tmp, ".flash", "resources.json")); // even with the state file lost
    const again = await provisioner(true).ensure(cfg);
    expect(em.control.endpoints.get(again.endpointId)).toBeDefined();
  });

  test("a crashed session's live endpoints are reported on the next run and removed when it ends", async () => {
    const crashed = provisioner(true);
    await crashed.ensure(new CpuLiveServerless({ name: "left_behind" }));
    // No cleanup: the process died. The next session uses another config only.
    const next = provisioner(true);
    const seen: string[] = [];
    const saved = [...log.options.reporters];
    const level = log.level;
    log.setReporters([{ log: (e) => seen.push(e.args.map(String).join(" ")) }]);
    log.level = 3;
    try {
      await next.ensure(new CpuLiveServerless({ name: "used_now" }));
    } finally {
      log.setReporters(saved);
      log.level = level;
    }
    expect(seen.some((l) => l.includes("an earlier session left 1 live endpoint (live-left_behind-fb)"))).toBe(true);
    expect(em.control.endpoints.size).toBe(2);
    expect(await next.cleanup()).toMatchObject({ removed: 2, failed: 0 });
    expect(em.control.endpoints.size).toBe(0);
  });

  test("a live endpoint left by a crashed session whose state file was damaged is still found (by marker) and removed", async () => {
    const crashed = provisioner(true);
    await crashed.ensure(new CpuLiveServerless({ name: "called_again" }));
    await crashed.ensure(new CpuLiveServerless({ name: "not_called_again" }));
    // The process died, and its state file was truncated.
    writeFileSync(join(tmp, ".flash", "resources.json"), "{");
    const next = provisioner(true);
    await next.ensure(new CpuLiveServerless({ name: "called_again" }));
    expect(em.control.endpoints.size).toBe(2);
    expect(await next.cleanup()).toMatchObject({ removed: 2, failed: 0 });
    expect(em.control.endpoints.size).toBe(0);
  });

  test("a 1-vCPU CPU type is refused before any request: REST v2 creates workers of 2 vCPUs or more", async () => {
    const p = provisioner(false);
    const cfg = new CpuLiveServerless({ name: "tiny", instanceIds: [CpuInstanceType.CPU3C_1_2] });
    await expect(p.ensure(cfg)).rejects.toThrow(
      "cpu3c-1-2 has 1 vCPU: Runpod's REST API v2 creates CPU workers of 2 vCPUs or more (a power of two); " +
        "use cpu3c-2-4 or larger",
    );
    expect(em.control.endpoints.size).toBe(0);
  });

  test("a create that fails with 503 is not sent again (it may have happened)", async () => {
    const p = provisioner(false);
    await p.ensure(new CpuLiveServerless({ name: "first" })); // the account listing is cached now
    em.fail({ status: 503, times: 1, path: "/v2/serverless", method: "POST" });
    const err = await p.ensure(new CpuLiveServerless({ name: "second" })).catch((e: Error) => e);
    expect((err as Error).message).toContain("503");
    expect([...em.control.endpoints.values()].map((e) => e.name)).toEqual(["first-fb"]);
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

describe("network volumes", () => {
  const volumeEnv = (endpointId: string) =>
    em.control.templateOf(em.control.endpoints.get(endpointId)!)!.env.find((v) => v.key === "FLASH_VOLUME_NAME");

  test("the account's volume of the same name and data center is reused, and the endpoint mounts it", async () => {
    const existing = em.control.createVolume({ name: "models", size: 50, dataCenterId: "EU-RO-1" });
    em.control.createVolume({ name: "models", size: 50, dataCenterId: "US-KS-2" }); // same name, elsewhere
    const volume = new NetworkVolume({ name: "models", size: 50 });
    const p = provisioner(true);
    const got = await p.ensure(new CpuLiveServerless({ name: "vol_reader", networkVolume: volume }));
    const endpoint = em.control.endpoints.get(got.endpointId)!;
    expect(endpoint.networkVolumeId).toBe(existing.id);
    expect(endpoint.locations).toBe("EU-RO-1"); // workers run where the volume is
    expect(volumeEnv(got.endpointId)?.value).toBe("models");
    expect(em.control.volumes.size).toBe(2);
    expect(volume.id).toBeUndefined(); // the user's object is not changed: another target looks it up itself
  });

  test("a teardown whose delete fails leaves the endpoint as it was, its volume still attached", async () => {
    const volume = new NetworkVolume({ name: "kept", size: 10 });
    const p = provisioner(true);
    const got = await p.ensure(
      new CpuLiveServerless({ name: "vol_kept", workersMin: 1, workersMax: 2, networkVolume: volume }),
    );
    const volumeId = em.control.endpoints.get(got.endpointId)!.networkVolumeId;
    expect(volumeId).toBeTruthy();
    // REST v2 deletes in one request, with no save at 0/0 before it that could drop the volume.
    em.fail({ status: 400, times: 1, path: "/v2/serverless/", method: "DELETE" });
    const summary = await p.cleanup();
    expect(summary.failed).toBe(1);
    const left = em.control.endpoints.get(got.endpointId)!;
    expect([left.workersMin, left.workersMax]).toEqual([1, 2]);
    expect(left.networkVolumeId).toBe(volumeId!);
  });

  test("without one, it is created once ({name, size, dataCenterId}) for every config that names it", async () => {
    const volume = new NetworkVolume({ name: "shared-results", size: 20 });
    const p = provisioner(true);
    const [a, b] = await Promise.all([
      p.ensure(new LiveServerless({ name: "vol_writer", networkVolume: volume })),
      p.ensure(new CpuLiveLoadBalancer({ name: "vol_lb", networkVolume: volume })),
    ]);
    const created = [...em.control.volumes.values()];
    expect(created).toEqual([{ id: expect.any(String), name: "shared-results", size: 20, dataCenterId: "EU-RO-1" }]);
    expect(em.control.endpoints.get(a.endpointId)!.networkVolumeId).toBe(created[0]!.id);
    expect(em.control.endpoints.get(b.endpointId)!.networkVolumeId).toBe(created[0]!.id);
  });

  test("a volume given by id is sent as is; an unknown id is refused by the platform", async () => {
    const mine = em.control.createVolume({ name: "mine", size: 10, dataCenterId: "EU-RO-1" });
    const p = provisioner(true);
    const ok = await p.ensure(
      new CpuLiveServerless({ name: "vol_byid", networkVolume: new NetworkVolume({ name: "mine", id: mine.id }) }),
    );
    expect(em.control.endpoints.get(ok.endpointId)!.networkVolumeId).toBe(mine.id);
    const missing = new NetworkVolume({ name: "gone", id: "nosuchvolume" });
    await expect(p.ensure(new CpuLiveServerless({ name: "vol_gone", networkVolume: missing }))).rejects.toThrow(
      "Network volume nosuchvolume not found",
    );
    expect(em.control.volumes.size).toBe(1);
  });

  test("flash deploy finds (or creates) the volume a manifest names before it saves the endpoint, once for all that name it", async () => {
    const gql = new RunpodGraphql(new RunpodHttp(KEY, { attempts: 2, baseDelayMs: 10 }), em.apiBaseUrl);
    const config = new CpuLiveServerless({ name: "vol_deployed", networkVolume: new NetworkVolume({ name: "data" }) });
    const m = mapConfig(config, { live: false, workspace: WS, programHash: "-", bootstrap: "-" });
    expect(m.endpoint.networkVolumeId).toBeUndefined(); // known by name only until the deploy applies
    const desired = {
      resource: "vol_deployed",
      endpointName: m.name,
      template: m.template!,
      endpoint: m.endpoint,
      hash: configHash(m),
      networkVolume: { name: "data", size: 100, dataCenterId: "EU-RO-1" },
    };
    const row = {
      resource: "vol_deployed",
      action: "create" as const,
      endpointName: m.name,
      changes: [],
      costMin: null,
      costMax: null,
      desired,
    };
    // A second endpoint naming the same volume, applied at the same time (as a deploy creates them): one volume.
    const other = { ...row, resource: "vol_other", endpointName: `${m.name}_2` };
    other.desired = { ...desired, resource: "vol_other", endpointName: other.endpointName };
    const rest = new RunpodRestV2(new RunpodHttp(KEY, { attempts: 2, baseDelayMs: 10 }), em.apiBaseUrl);
    const result = await applyPlan(gql, { rows: [row, other], changes: 2 }, { volumes: rest });
    expect(result.failures).toEqual([]);
    const volume = [...em.control.volumes.values()];
    expect(volume.map((v) => v.name)).toEqual(["data"]);
    for (const deployed of [result.deployed.vol_deployed!, result.deployed.vol_other!])
      expect(em.control.endpoints.get(deployed.endpoint_id)!.networkVolumeId).toBe(volume[0]!.id);
  });
});
