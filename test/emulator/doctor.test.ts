/**
 * `flash doctor runpod` against the emulator (what a user with a real key runs against Runpod): every step passes,
 * the open questions get the emulator's answers, nothing is left behind (Ctrl+C included), and the key never shows.
 * Durations Runpod decides (the idle wait, the region watch, the GPU scale-down) are flags, so each waits
 * milliseconds here. One emulator serves GraphQL only for Flash apps (as after Runpod retires it): the doctor needs
 * REST v2 alone, and the Flash-plane and deploy steps say their questions stay open; another, with GraphQL, runs
 * those two and the GPU step. Without a key it says what to do.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { finished, REPO } from "../helpers/workspace";

const KEY = "rpa_doctor_test_key_SECRET_0000000";
let em: Emulator;
/** An emulator with GraphQL (the Flash plane and deploy steps need it), shared by the tests that need one. */
let full: Emulator;
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
  // An idle timeout's second lasts 20 ms: the GPU step's worker stops for idleness at once.
  full = startEmulator({
    apiKey: KEY,
    takeHoldMs: 1000,
    control: { templateDeleteDelayMs: 300 },
    workers: { env: { FLASH_WORKER_CACHE: join(tmp, "cache-full") }, lbWaitMs: 30_000, idleSecondMs: 20 },
  });
});
afterAll(async () => {
  await Promise.all([em.stop(), full.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

describe("flash doctor runpod", () => {
  test("passes against the emulator, answers the open questions, removes everything, never prints the key", async () => {
    const { code, out } = await doctor(
      [
        "runpod",
        "--api-url",
        em.apiBaseUrl,
        "--lb-probe",
        "10s",
        "--empty-input-probe",
        "1s",
        "--idle-probe",
        "300ms",
        "--region-probe",
        "2s",
        "--stream-probe",
        "20s",
      ],
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
    // Streaming: three small chunks arrive; the 1.5 MB one is refused by flash's worker, and /status says why.
    expect(out).toMatch(
      /\(stream\) 3 small chunks arrived through \/stream in order; the 1\.5 MB chunk did not arrive, and the call failed: .*over Runpod's 1 MB per streamed chunk/,
    );
    // A bare worker posts the 1.5 MB chunk itself: what the emulator (as Runpod, per its docs) does with it.
    expect(out).toMatch(
      /\(stream\) Runpod's \/stream returned entries of .* bytes for 3 small chunks and one of 1\.5 MB \(the worker's chunk POSTs answered \[.*\]\); the final \/status is COMPLETED and keeps the job-done output/,
    );
    // The idle worker waited 300 ms without its program, was never marked unhealthy, and took a job after.
    expect(out).toMatch(
      /idle bootstrap health: .* left 0\.3 s without its program, then a call \(one CPU worker ≈ \$[\d.]+\) \[only a real key settles this\]/,
    );
    expect(out).toContain("(idle) a default-image worker left 0.3 s without its program was listed by /health");
    expect(out).toContain("was never marked unhealthy, and took a job after");
    // A CPU endpoint outside EU-RO-1: the emulator's answer (only Runpod's counts), then it is deleted.
    expect(out).toMatch(/\(region\) a CPU endpoint in US-KS-2 is accepted and GETS a worker/);
    // The deploy steps need GraphQL: with it retired, the question stays open and nothing is left.
    expect(out).toContain("(deploy) not settled: ");
    expect(out).toContain("is not Runpod: the answers below are that server's");
    expect(out).toMatch(/all 18 steps passed/);
    expect(code).toBe(0);
    expect(em.control.endpoints.size).toBe(0);
    expect(em.control.templates.size).toBe(0);
    expect(em.control.volumes.size).toBe(0);
    expect(em.flashApps.apps.size).toBe(0);
    await Bun.sleep(300);
    expect(em.supervisor.workers.size).toBe(0);
  }, 120_000);

  test("the Flash plane step alone (--only flash): a build on a stock image, its mount, the environment's answers; the app is deleted", async () => {
    const flashEm = full;
    {
      const { code, out } = await doctor(
        ["runpod", "--api-url", flashEm.apiBaseUrl, "--only", "flash", "--template-wait", "10s"],
        {
          RUNPOD_API_KEY: KEY,
        },
      );
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
      expect(out).toMatch(
        /\(flash\) activeArtifact\.downloadUrl without a key answers HTTP 200 with the build \((\d+) of \1 bytes\); it expires in about \d+ min/,
      );
      expect(flashEm.flashApps.apps.size).toBe(0);
      expect(flashEm.control.endpoints.size).toBe(0);
      // Its template too, once Runpod's refusal to delete a just-used one is waited out.
      expect(flashEm.control.templates.size).toBe(0);
    }
  }, 120_000);

  test("deploy → undeploy → deploy, the mothership's reach and the GPU step (--only deploy --gpu): every route answers, everything is removed", async () => {
    const { code, out } = await doctor(
      [
        "runpod",
        "--api-url",
        full.apiBaseUrl,
        "--only",
        "deploy",
        "--gpu",
        "--gpu-scale-down",
        "10s",
        "--template-wait",
        "10s",
      ],
      { RUNPOD_API_KEY: KEY },
    );
    expect(out).not.toContain(KEY);
    // The GPU step is announced with its cost before anything runs.
    expect(out).toMatch(/the GPU step is on: one 16 GB GPU worker \(AMPERE_16\) for about 5 minutes ≈ \$0\.05/);
    expect(out).toMatch(
      /deploy → undeploy → deploy within a minute .*: 3 endpoints deployed, undeployed \(\d+ template\(s\) Runpod did not release yet\) and deployed again in \d+\.\d s/,
    );
    expect(out).toMatch(
      /mothership reach: .*: first route call from a cold mothership \(a queue worker behind it\) \d+\.\d s; a route on a cold load-balanced worker behind the warm mothership \d+\.\d s, warm \d+\.\d s/,
    );
    expect(out).toContain("deploy teardown: delete the environment's endpoints, templates and the app");
    expect(out).toMatch(
      // Whether the worker had stopped by the second call is the emulator's scaling, not what this test is about:
      // on a loaded machine a replacement worker was up when the step looked (seen twice in 20 runs).
      /\(gpu\) default GPU image from cold: \d+\.\d s to the answer \(container start → Bun ready -?\d+\.\d s, Bun ready → answer \d+\.\d s\); (after the worker stopped|with the worker still up), again: .*, Bun (NOT )?downloaded again/,
    );
    expect(out).toMatch(/all 5 steps passed/);
    expect(code).toBe(0);
    expect(full.flashApps.apps.size).toBe(0);
    expect(full.control.endpoints.size).toBe(0);
    expect([...full.control.templates.values()].map((t) => t.name)).toEqual([]);
  }, 120_000);

  test("Ctrl+C during a step removes what the doctor created so far and exits 130", async () => {
    const proc = Bun.spawn(
      [
        process.execPath,
        join(REPO, "cli.ts"),
        "doctor",
        "runpod",
        "--api-url",
        em.apiBaseUrl,
        "--only",
        "idle",
        "--idle-probe",
        "60s",
      ],
      { cwd: tmp, env: { ...process.env, NO_COLOR: "1", RUNPOD_API_KEY: KEY }, stdout: "pipe", stderr: "pipe" },
    );
    // The idle step's endpoint (one worker kept up) exists: the doctor is inside its 60 s wait.
    while (![...em.control.endpoints.values()].some((e) => e.name.includes("flash_doctor_idle_"))) {
      if (proc.exitCode !== null) break;
      await Bun.sleep(20);
    }
    proc.kill("SIGINT");
    const { code, out } = await finished(proc);
    expect(out).toContain("interrupted: removing what flash doctor created");
    expect(code).toBe(130);
    expect(em.control.endpoints.size).toBe(0);
  }, 60_000);

  test("without RUNPOD_API_KEY it refuses and says where to get a key; help lists the options", async () => {
    const missing = await doctor(["runpod"], {});
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("RUNPOD_API_KEY is not set");
    expect(missing.out).toContain("https://console.runpod.io/user/settings");
    const help = await doctor(["runpod", "--help"], {});
    expect(help.out).toContain("--api-url");
    expect(help.out).toContain("--lb-probe");
    expect(help.out).toContain("--empty-input-probe");
    expect(help.out).toMatch(/--only.*starts, endpoints, idle, control, volume, region, catalog, flash, deploy, gpu/);
    expect(help.out).toContain("--idle-probe");
    expect(help.out).toContain("--gpu");
    const unknown = await doctor(["runpod", "--api-url", em.apiBaseUrl, "--only", "starts,bogus"], {
      RUNPOD_API_KEY: KEY,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain(
      "--only: unknown part bogus; known: starts, endpoints, idle, control, volume, region, catalog, flash, deploy, gpu",
    );
    const bad = await doctor(["runpod", "--api-url", em.apiBaseUrl], { RUNPOD_API_KEY: "rpa_wrong_key_0000" });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("the API key was rejected (HTTP 401)");
    expect(bad.out).not.toContain("rpa_wrong_key_0000");
  }, 60_000);
});
