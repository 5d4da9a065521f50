/**
 * `flash doctor runpod` against the emulator (what a user with a real key runs against Runpod): every step passes,
 * the open questions get answers, nothing is left behind, and the key never shows. Without a key it says what to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { REPO } from "../helpers/workspace";

const KEY = "rpa_doctor_test_key_SECRET_0000000";
let em: Emulator;
let tmp: string;

/** Run `flash doctor …` from source without blocking this process (the emulator answers from it). */
async function doctor(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "doctor", ...args], {
    cwd: tmp,
    env: { ...process.env, NO_COLOR: "1", RUNPOD_API_KEY: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, out: out + err };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-doctor-test-"));
  em = startEmulator({
    apiKey: KEY,
    takeHoldMs: 1000,
    control: { templateDeleteDelayMs: 1500 },
    workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache") }, lbWaitMs: 1000 },
  });
});
afterAll(async () => {
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("flash doctor runpod", () => {
  test("passes against the emulator, answers the open questions, removes everything, never prints the key", async () => {
    const { code, out } = await doctor(
      ["runpod", "--api-url", em.apiBaseUrl, "--wait-templates", "20s", "--lb-probe", "10s"],
      { RUNPOD_API_KEY: KEY },
    );
    expect(out).not.toContain(KEY);
    expect(out).toContain("the API key is accepted");
    // The deployed start commands ran locally first, from their images, against a built artifact.
    expect(out).toMatch(
      /deployed start commands, locally: .*\(\$0\) \(\d+\.\d s\): .*mothership ready in \d+\.\d s on oven\/bun/,
    );
    expect(out).toMatch(/queue endpoint: created on first call, cold start, one call \(\d+\.\d s\): answered 42/);
    expect(out).toMatch(/load-balanced endpoint: .* answered 4 from bun .*; on a 24 GB GPU ≈ \$/);
    expect(out).toContain("config change: workersMax 1 → 2 on both endpoints");
    expect(out).toContain("teardown: scale every endpoint to 0/0, delete it, verify it is gone");
    expect(out).toMatch(/teardown: delete the templates .*: deleted 5; the last one \d+\.\d s after its endpoint/);
    // Each §6 question the emulator can answer gets the emulator's answer.
    expect(out).toContain("6.1a Runpod DOES put PORT into a pre-created template");
    expect(out).toContain("6.1b an LB worker is given:");
    expect(out).toContain("RUNPOD_WEBHOOK_GET_JOB absent");
    expect(out).toContain('6.2 a duplicate template name is refused with HTTP 200: "Template name must be unique');
    expect(out).toContain("6.3 deleteEndpoint with workersMax 1 is refused");
    expect(out).toContain("6.4 deleteTemplate(templateName:) is String! (a nullable variable gets HTTP 400)");
    expect(out).toContain("6.5 /status of a FAILED job has no output next to error");
    expect(out).toContain('6.6 an LB request with no workers gets HTTP 503: {"error":"no workers available"}');
    expect(out).toContain('6.8 gpuIds "" on a CPU endpoint is accepted');
    expect(out).toMatch(/worker time ≈ \d+ s on 2 CPU workers → about \$[\d.]+; the same on 24 GB GPUs ≈ \$/);
    expect(out).toContain('(volumes) createNetworkVolume answered {"id":');
    expect(out).toContain("(volumes) myself.networkVolumes lists it");
    expect(out).toMatch(
      /\(volumes\) an endpoint saved with networkVolumeId reads back networkVolumeId "\w+", networkVolumeIds \[\{"networkVolumeId":"\w+","dataCenterId":"EU-RO-1"\}\]/,
    );
    expect(out).toContain("(volumes) deleting a volume an endpoint uses is refused");
    expect(out).toContain("(flash) a build's manifest in flash's shape is accepted and comes back unchanged");
    expect(out).toContain(
      "(flash) flashEnvironment.endpoints lists an endpoint saved with flashEnvironmentId, at once",
    );
    expect(out).toMatch(
      /\(flash\) the artifact IS mounted into a stock image \(oven\/bun\) at \/root\/\.runpod\/artifact\.tar\.gz: after 0s of the start command, (\d+) bytes \(sent \1\)/,
    );
    expect(out).toContain("(flash) deleteFlashEnvironment with an endpoint attached: refused");
    expect(out).toMatch(/Flash plane: a build on a stock image .*: one CPU worker ≈ \$/);
    expect(em.flashApps.apps.size).toBe(0);
    expect(out).toMatch(/\(input\) a job with \{"input": \{\}\} (stays IN_QUEUE|is dispatched)/);
    expect(out).toMatch(/\(cpu\) a CPU endpoint in US-KS-2 is (refused|accepted)/);
    expect(out).toMatch(/all 14 steps passed/);
    expect(code).toBe(0);
    expect(em.control.endpoints.size).toBe(0);
    expect(em.control.templates.size).toBe(0);
    expect(em.control.volumes.size).toBe(0);
    await Bun.sleep(300);
    expect(em.supervisor.workers.size).toBe(0);
  }, 120_000);

  test("without RUNPOD_API_KEY it refuses and says where to get a key; help lists the options", async () => {
    const missing = await doctor(["runpod"], {});
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("RUNPOD_API_KEY is not set");
    expect(missing.out).toContain("https://console.runpod.io/user/settings");
    const help = await doctor(["runpod", "--help"], {});
    expect(help.out).toContain("--api-url");
    expect(help.out).toContain("--wait-templates");
    const bad = await doctor(["runpod", "--api-url", em.apiBaseUrl], { RUNPOD_API_KEY: "rpa_wrong_key_0000" });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("the API key was rejected (HTTP 401)");
    expect(bad.out).not.toContain("rpa_wrong_key_0000");
  }, 60_000);
});
