/**
 * `flash doctor runpod` against the emulator (what a user with a real key runs against Runpod): every step passes,
 * the open questions get answers, nothing is left behind, and the key never shows. The emulator serves GraphQL only
 * for Flash apps (as after Runpod retires it): the doctor needs REST v2 alone. Without a key it says what to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { finished, REPO } from "../helpers/workspace";

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
  return finished(proc);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-doctor-test-"));
  em = startEmulator({
    apiKey: KEY,
    retireGraphql: true,
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
      ["runpod", "--api-url", em.apiBaseUrl, "--lb-probe", "10s", "--empty-input-probe", "1s"],
      {
        RUNPOD_API_KEY: KEY,
      },
    );
    expect(out).not.toContain(KEY);
    expect(out).toMatch(/the API key is accepted \(\d+\.\d s\): GET \/v2\/serverless lists 0 endpoints/);
    // The deployed start commands ran locally first, from their images, against a built artifact.
    expect(out).toMatch(
      /deployed start commands, locally: .*\(\$0\) \(\d+\.\d s\): .*mothership ready in \d+\.\d s on oven\/bun/,
    );
    expect(out).toMatch(/\(input\) a job with \{"input": \{\}\} stays IN_QUEUE \(1\.0 s, a warm worker idle\)/);
    // The Flash plane is GraphQL only: with GraphQL retired, its questions stay open.
    expect(out).toContain("(flash) not settled: ");
    expect(out).toMatch(/queue endpoint: created on first call, cold start, one call \(\d+\.\d s\): answered 42/);
    expect(out).toMatch(/load-balanced endpoint: .* answered 4 from bun .*; on a 24 GB GPU ≈ \$/);
    expect(out).toContain("config change: workers.max 1 → 2 on both endpoints (PATCH /v2/serverless/{id})");
    expect(out).toContain("teardown: delete every endpoint (DELETE /v2/serverless/{id}), verify it is gone");
    // Each open question the emulator can answer gets the emulator's answer.
    expect(out).toContain(
      "(v2) an unknown field is refused with HTTP 422: Runpod POST /v2/serverless answered 422 Unprocessable Entity: " +
        "Request validation failed.; $: additional properties 'flashDoctorBogus' not allowed",
    );
    expect(out).toContain("6.1a Runpod DOES put PORT into a load-balanced endpoint's env");
    expect(out).toContain("6.1b an LB worker is given:");
    expect(out).toContain("RUNPOD_WEBHOOK_GET_JOB absent");
    expect(out).toContain("6.3 DELETE of an endpoint with workers.max 1 is accepted: no 0/0 step");
    expect(out).toContain("(v2) GET of a deleted endpoint answers HTTP 404");
    expect(out).toContain("6.5 /status of a FAILED job has no output next to error");
    expect(out).toContain('6.6 an LB request with no workers gets HTTP 503: {"error":"no workers available"}');
    expect(out).toMatch(/\(catalog\) \d+ GPU types in 11 serverless pools, \$0\.58–\$8\.64\/h per GPU, CUDA 11\.8,/);
    expect(out).toMatch(/worker time ≈ \d+ s on 2 CPU workers → about \$[\d.]+; the same on 24 GB GPUs ≈ \$/);
    expect(out).toContain('(volumes) POST /v2/network-volumes answered {"id":');
    expect(out).toContain("(volumes) GET /v2/network-volumes lists it");
    expect(out).toMatch(
      /\(volumes\) an endpoint created with networkVolumes reads back networkVolumes \["\w+"\], dataCenterIds \["EU-RO-1"\]/,
    );
    expect(out).toContain("(volumes) deleting a volume an endpoint uses is refused");
    expect(out).toContain("after the deletes, GET /v2/templates lists 0 template(s)");
    expect(out).toMatch(/all 14 steps passed/);
    expect(code).toBe(0);
    expect(em.control.endpoints.size).toBe(0);
    expect(em.control.templates.size).toBe(0);
    expect(em.control.volumes.size).toBe(0);
    await Bun.sleep(300);
    expect(em.supervisor.workers.size).toBe(0);
  }, 120_000);

  test("the Flash plane step alone (--only flash): a build on a stock image, its mount, the environment's answers; the app is deleted", async () => {
    const flashEm = startEmulator({ apiKey: KEY, takeHoldMs: 1000, control: { templateDeleteDelayMs: 0 } });
    try {
      const { code, out } = await doctor(["runpod", "--api-url", flashEm.apiBaseUrl, "--only", "flash"], {
        RUNPOD_API_KEY: KEY,
      });
      expect(out).toContain("(flash) a build's manifest in flash's shape is accepted and comes back unchanged");
      expect(out).toContain(
        "(flash) flashEnvironment.endpoints lists an endpoint saved with flashEnvironmentId, at once",
      );
      expect(out).toMatch(
        /\(flash\) the artifact IS mounted into a stock image \(oven\/bun\) at \/root\/\.runpod\/artifact\.tar\.gz: after 0s of the start command, (\d+) bytes \(sent \1\)/,
      );
      expect(out).toContain("(flash) deleteFlashEnvironment with an endpoint attached: refused");
      expect(out).toMatch(/Flash plane: a build on a stock image .*: one CPU worker ≈ \$/);
      expect(out).not.toContain(KEY);
      // Only the key check and the Flash plane ran: no endpoint pair, no start check.
      expect(out).toMatch(/all 2 steps passed/);
      expect(out).not.toContain("queue endpoint: created on first call");
      expect(out).not.toContain("deployed start commands, locally");
      expect(code).toBe(0);
      expect(flashEm.flashApps.apps.size).toBe(0);
      expect(flashEm.control.endpoints.size).toBe(0);
    } finally {
      await flashEm.stop();
    }
  }, 120_000);

  test("without RUNPOD_API_KEY it refuses and says where to get a key; help lists the options", async () => {
    const missing = await doctor(["runpod"], {});
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("RUNPOD_API_KEY is not set");
    expect(missing.out).toContain("https://console.runpod.io/user/settings");
    const help = await doctor(["runpod", "--help"], {});
    expect(help.out).toContain("--api-url");
    expect(help.out).toContain("--lb-probe");
    expect(help.out).toContain("--empty-input-probe");
    expect(help.out).toMatch(/--only.*starts, endpoints, control, volume, catalog, flash/);
    const unknown = await doctor(["runpod", "--api-url", em.apiBaseUrl, "--only", "starts,bogus"], {
      RUNPOD_API_KEY: KEY,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain(
      "--only: unknown part bogus; known: starts, endpoints, control, volume, catalog, flash",
    );
    const bad = await doctor(["runpod", "--api-url", em.apiBaseUrl], { RUNPOD_API_KEY: "rpa_wrong_key_0000" });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("the API key was rejected (HTTP 401)");
    expect(bad.out).not.toContain("rpa_wrong_key_0000");
  }, 60_000);
});
