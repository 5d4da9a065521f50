/**
 * `flash doctor runpod`: a smoke test of Runpod with the user's own key, in about two minutes and a few cents.
 * It does what `flash run --target runpod` does (a CPU queue endpoint and a CPU load-balanced endpoint with the
 * default image, one call on each through flash's own client), changes a config, tears everything down through
 * Runpod's REST API v2 (DELETE /v2/serverless/{id}, which takes the bound template along; list to verify), and on the
 * way answers the open questions about the platform that no public source settles, network volumes among them
 * (printed at the end). Only its Flash-plane step uses GraphQL (Flash apps have no REST API; without GraphQL that
 * step reports its questions as open): the rest passes against `flash emulator --retire-graphql`.
 * Every step prints its time, and what the worker time would cost on a GPU. `--api-url` (and friends) point it at an emulator for tests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { loadDotEnvOrExit } from "./_shared";
import { log } from "../base/log";
import { locateWorkspace } from "../workspace/discovery";
import { COMMANDS } from "./catalog";
import { parseDuration } from "../base/duration";
import { RunpodApiError, RunpodHttp, redact } from "../runpod/http";
import { RunpodRestV2, type V2Endpoint } from "../runpod/rest-v2";
import { DEFAULT_EXECUTION_TIMEOUT_MS } from "../runpod/platform";

/** Approximate serverless list prices, USD per worker-second (runpod.io/pricing, flex workers; check there). */
const PRICES = { cpu: 0.00004, gpu24: 0.00031, gpu80: 0.00116 } as const;

/** One line of the report. */
interface Step {
  name: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

/** Where the doctor talks to, with which key (never printed). */
interface Conn {
  apiBaseUrl: string;
  endpointBaseUrl: string;
  lbBaseUrl: string;
  key: string;
}

/** The REST v2 client the doctor uses (one attempt per call: a failure is an answer here, not a retry). */
function restOf(conn: Conn): RunpodRestV2 {
  return new RunpodRestV2(new RunpodHttp(conn.key, { attempts: 2, baseDelayMs: 200 }), conn.apiBaseUrl);
}

/** A call whose refusal is an answer: the status and Runpod's words, or the value. */
async function attempt<T>(run: () => Promise<T>): Promise<{ value?: T; status?: number; error?: string }> {
  try {
    return { value: await run() };
  } catch (error) {
    const status = error instanceof RunpodApiError ? error.status : 0;
    return { status, error: (error as Error).message };
  }
}

/** The user code the doctor deploys: two functions, one per endpoint kind, that report where they ran. */
function doctorModule(tag: string): string {
  return `import { CpuLiveLoadBalancer, CpuLiveServerless, remote } from "flash";

const queue = new CpuLiveServerless({ name: "flash_doctor_q_${tag}", workersMin: 0, workersMax: 1, idleTimeout: 5 });
const lb = new CpuLiveLoadBalancer({ name: "flash_doctor_lb_${tag}", workersMin: 0, workersMax: 1, idleTimeout: 5 });

/** Names (never values) of the platform's variables, so the doctor can say what a worker is given. */
function platformVars() {
  return Object.keys(process.env).filter((k) => k.startsWith("RUNPOD_") || k.startsWith("PORT")).sort();
}

export const queueCall = remote(queue, async (x: { n: number }) => ({ doubled: x.n * 2, bun: Bun.version, vars: platformVars() }));
export const lbCall = remote(lb, async (x: { n: number }) => ({ doubled: x.n * 2, bun: Bun.version, vars: platformVars() }), {
  method: "POST",
  path: "/double",
});
`;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const usd = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(2)}`;

/**
 * The doctor's parts, for `--only`: the key check always runs (it is the first authenticated call); `endpoints` is
 * the queue and load-balanced pair with every check that needs them (calls, config change, FAILED job, empty input,
 * LB with no workers, teardown).
 */
const DOCTOR_PARTS = ["starts", "endpoints", "control", "volume", "catalog", "flash"] as const;
/** One of the doctor's parts. */
type DoctorPart = (typeof DOCTOR_PARTS)[number];

/** What the doctor waits for where Runpod decides how long an answer takes; which parts run. */
interface DoctorOptions {
  lbProbeMs: number;
  mountProbeMs: number;
  emptyInputMs: number;
  only: ReadonlySet<DoctorPart>;
}

/** The parts `--only` names (all of them when it is absent); an unknown name is an error that lists the known ones. */
function parseParts(only: string | undefined): ReadonlySet<DoctorPart> {
  if (!only) return new Set(DOCTOR_PARTS);
  const names = only
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(DOCTOR_PARTS as readonly string[]).includes(n));
  if (unknown.length || !names.length) {
    throw new Error(`--only: unknown part ${unknown.join(", ") || "(none)"}; known: ${DOCTOR_PARTS.join(", ")}`);
  }
  return new Set(names as DoctorPart[]);
}

/** Run the smoke test; returns the exit code. */
async function runDoctor(conn: Conn, opts: DoctorOptions): Promise<number> {
  const wants = (part: DoctorPart) => opts.only.has(part);
  const steps: Step[] = [];
  const answers: string[] = [];
  const tag = Math.random().toString(36).slice(2, 8);
  const tmp = mkdtempSync(join(tmpdir(), "flash-doctor-"));
  const created: DoctorCreated = { endpoints: new Set<string>(), volumes: new Set<string>(), apps: new Set<string>() };
  const rest = restOf(conn);
  const started = Date.now();
  // Ctrl+C: remove what was created so far before leaving (endpoints bill while they have workers).
  const interrupted = async () => {
    log.warn("interrupted: removing what flash doctor created");
    await emergencyTeardown(rest, conn, created);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", () => void interrupted());
  let workerMs = 0;
  let target: Awaited<ReturnType<typeof import("../runpod/runpod-target").createTarget>> | undefined;
  let mine: V2Endpoint[] | undefined;
  let lbEndpoint: V2Endpoint | undefined;

  const step = async <T>(
    name: string,
    run: () => Promise<T>,
    detail?: (v: T) => string,
    billed = false,
  ): Promise<T | undefined> => {
    const t0 = Date.now();
    try {
      const value = await run();
      const ms = Date.now() - t0;
      // Worker time of this step as if it ran on GPUs (cold start and call are billed on Runpod).
      const gpu = billed ? `; on a 24 GB GPU ≈ ${usd((ms / 1000) * PRICES.gpu24)}` : "";
      const s: Step = { name, ok: true, ms, detail: `${detail?.(value) ?? ""}${gpu}`.replace(/^; /, "") || undefined };
      steps.push(s);
      log.success(`${name} (${fmt(s.ms)})${s.detail ? `: ${s.detail}` : ""}`);
      return value;
    } catch (error) {
      const s: Step = { name, ok: false, ms: Date.now() - t0, detail: redact((error as Error).message, conn.key) };
      steps.push(s);
      log.error(`${name} (${fmt(s.ms)}): ${s.detail}`);
      return undefined;
    }
  };

  log.info(
    `flash doctor runpod: ${conn.apiBaseUrl} (tag ${tag}; everything it creates has "flash_doctor" in its name)`,
  );
  try {
    const account = await step(
      "the API key is accepted",
      async () => {
        try {
          return await rest.listEndpoints();
        } catch (error) {
          if (error instanceof RunpodApiError && error.status === 401) {
            throw new Error("the API key was rejected (HTTP 401): check RUNPOD_API_KEY");
          }
          throw error;
        }
      },
      (list) => `GET /v2/serverless lists ${list.length} endpoint${list.length === 1 ? "" : "s"}`,
    );
    if (!account) return 1;

    // ── 1. what `flash run --target runpod` does: provision on first call, default image, one call each ──
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "flash-doctor", private: true, type: "module" }));
    writeFileSync(join(tmp, "doctor.ts"), doctorModule(tag));

    // ── 0. the deployed start commands, locally, before anything is spent ─────────────────────────────────
    if (wants("starts")) {
      await step(
        "deployed start commands, locally: each template's start command from its image against a built artifact ($0)",
        () => checkDeployedStarts(tmp, tag),
        (checks) => checks.map((c) => `${c.resource} ready in ${fmt(c.ms)} on ${c.image}`).join(", "),
      );
    }
    // The queue and load-balanced pair, and every check that needs them; returns the worker time of the calls.
    const endpointSteps = async (): Promise<number> => {
      const env = {
        ...process.env,
        RUNPOD_API_KEY: conn.key,
        RUNPOD_API_BASE_URL: conn.apiBaseUrl,
        RUNPOD_ENDPOINT_BASE_URL: conn.endpointBaseUrl,
        RUNPOD_LB_BASE_URL: conn.lbBaseUrl,
      };
      const { createTarget } = await import("../runpod/runpod-target");
      const { setTarget } = await import("../remote/target");
      target = await createTarget("runpod", { root: tmp, env });
      setTarget(target);
      const mod = (await import(join(tmp, "doctor.ts"))) as Record<string, (x: { n: number }) => Promise<any>>;
      const callStart = Date.now();
      const queued = await step(
        "queue endpoint: created on first call, cold start, one call",
        async () => {
          const out = await mod.queueCall!({ n: 21 });
          if (out?.doubled !== 42) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
          return out;
        },
        (o) => `answered 42 from bun ${o.bun}`,
        true,
      );
      const balanced = await step(
        "load-balanced endpoint: created on first call, cold start, one call",
        async () => {
          const out = await mod.lbCall!({ n: 2 });
          if (out?.doubled !== 4) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
          return out;
        },
        (o) => `answered 4 from bun ${o.bun}`,
        true,
      );
      mine = await step(
        "the endpoints are listed",
        async () => {
          const ours = (await rest.listEndpoints()).filter(
            (e) => e.name.includes("flash_doctor_") && e.name.includes(tag),
          );
          for (const e of ours) created.endpoints.add(e.id);
          if (ours.length < 2) throw new Error(`found ${ours.length} of 2 endpoints named flash_doctor_*_${tag}`);
          return ours;
        },
        (o) => o.map((e) => `${e.type} ${e.id}`).join(", "),
      );
      if (balanced) {
        const vars = (balanced.vars as string[]).join(" ");
        answers.push(
          `6.1b an LB worker is given: ${vars || "(no RUNPOD_*/PORT variables)"} — RUNPOD_WEBHOOK_GET_JOB ` +
            `${vars.includes("RUNPOD_WEBHOOK_GET_JOB") ? "present" : "absent"}`,
        );
      }
      if (queued) answers.push(`(info) a queue worker is given: ${(queued.vars as string[]).join(" ")}`);

      // ── 2. a config change on each endpoint (a PATCH of one field), and the LB endpoint's env across it ──────
      lbEndpoint = mine?.find((e) => e.type === "LOAD_BALANCER");
      await step("config change: workers.max 1 → 2 on both endpoints (PATCH /v2/serverless/{id})", async () => {
        for (const e of mine ?? []) {
          const saved = await rest.updateEndpoint(e.id, { workers: { max: 2 } });
          const drift = (["scaling", "type", "image", "args", "env", "gpu", "cpu"] as const).filter(
            (k) => JSON.stringify(saved[k]) !== JSON.stringify(e[k]),
          );
          if (saved.workers.max !== 2 || saved.workers.min !== e.workers.min || drift.length) {
            throw new Error(`endpoint ${e.id}: workers ${JSON.stringify(saved.workers)}, changed besides: ${drift}`);
          }
        }
      });
      if (lbEndpoint) {
        const after = await rest.getEndpoint(lbEndpoint.id).catch(() => undefined);
        const keys = (env?: Record<string, string>) =>
          Object.keys(env ?? {})
            .filter((k) => k.startsWith("PORT"))
            .join(",") || "none";
        answers.push(
          `(info) LB endpoint PORT vars before the change: ${keys(lbEndpoint.env)}; after: ${keys(after?.env)}`,
        );
        await step("load-balanced endpoint still answers after the change", async () => {
          const out = await mod.lbCall!({ n: 5 });
          if (out?.doubled !== 10) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
        });
      }
      const workedMs = Date.now() - callStart;
      await step("the FAILED job shape", async () => {
        const q = mine?.find((e) => e.type !== "LOAD_BALANCER");
        if (!q) throw new Error("no queue endpoint");
        answers.push(await probeFailedJob(conn, q.id));
      });
      await step("a job with empty input (no worker, $0)", async () => {
        const q = mine?.find((e) => e.type !== "LOAD_BALANCER");
        if (!q) throw new Error("no queue endpoint");
        answers.push(await probeEmptyInput(conn, q.id, opts.emptyInputMs));
      });
      return workedMs;
    };
    // ── 4. teardown: DELETE (no 0/0 step in v2), list to verify ─────────────────────────────────────
    const endpointTeardown = async () => {
      if (lbEndpoint) answers.push(await probeLbNoWorkers(rest, conn, lbEndpoint, opts.lbProbeMs));
      await step("teardown: delete every endpoint (DELETE /v2/serverless/{id}), verify it is gone", async () => {
        for (const id of created.endpoints) await rest.deleteEndpoint(id);
        const left = (await rest.listEndpoints()).filter((e) => created.endpoints.has(e.id));
        if (left.length) throw new Error(`still listed: ${left.map((e) => e.id).join(", ")}`);
        created.endpoints.clear();
        const templates = (await rest.listTemplates()).filter(
          (t) => t.name.includes(`flash_doctor`) && t.name.includes(tag),
        );
        answers.push(
          `(info) after the deletes, GET /v2/templates lists ${templates.length} template(s) named flash_doctor_*_${tag}`,
        );
      });
    };
    if (wants("endpoints")) workerMs = await endpointSteps();
    if (wants("control")) {
      await step("open questions about the REST v2 control plane", async () => {
        answers.push(...(await probeControlPlane(rest, tag, created)));
      });
    }
    if (wants("volume")) {
      await step("network volume: create, attach to an endpoint, delete (10 GB for a minute, no worker)", async () => {
        answers.push(...(await probeVolume(rest, tag, created)));
      });
    }
    if (wants("catalog")) {
      await step("the GPU catalog answers (pools, serverless prices, CUDA versions)", async () => {
        answers.push(await probeCatalog(rest));
      });
    }
    if (wants("flash")) {
      await step(
        "Flash plane: a build on a stock image — is the artifact mounted, when, and what the environment says",
        async () => {
          const t0 = Date.now();
          answers.push(...(await probeFlashPlane(conn, tag, created, opts.mountProbeMs)));
          return Date.now() - t0;
        },
        (ms) => `one CPU worker ≈ ${usd((ms / 1000) * PRICES.cpu)}`,
      );
    }
    if (wants("endpoints")) await endpointTeardown();
  } finally {
    await target?.shutdown().catch(() => {});
    await emergencyTeardown(rest, conn, created);
    rmSync(tmp, { recursive: true, force: true });
  }

  answers.push("6.7 missed pings during a long job: not settled here (it needs a job that blocks for minutes)");
  const failed = steps.filter((s) => !s.ok);
  const secs = workerMs / 1000;
  log.info(
    `\nworker time ≈ ${secs.toFixed(0)} s on 2 CPU workers → about ${usd(2 * secs * PRICES.cpu)}; the same on 24 GB ` +
      `GPUs ≈ ${usd(2 * secs * PRICES.gpu24)}, on 80 GB GPUs ≈ ${usd(2 * secs * PRICES.gpu80)} ` +
      "(approximate flex prices per second; see runpod.io/pricing)",
  );
  log.info(
    `\nwhat this account's Runpod answered (questions the public docs leave open):\n${answers.map((a) => `  ${a}`).join("\n")}`,
  );
  const total = fmt(Date.now() - started);
  if (failed.length) {
    log.error(`\n${failed.length} of ${steps.length} steps failed (${total}): ${failed.map((s) => s.name).join("; ")}`);
    return 1;
  }
  log.success(`\nall ${steps.length} steps passed (${total})`);
  return 0;
}

/**
 * What the v2 document leaves open, with a bare CPU load-balanced endpoint that never gets a request (workers.min 0:
 * no worker runs, nothing is billed): how an unknown field is refused, whether Runpod adds PORT to an LB endpoint's
 * env, whether an endpoint with workers.max 1 is deleted at once (GraphQL wanted 0/0 first), and what a deleted
 * endpoint answers.
 */
async function probeControlPlane(rest: RunpodRestV2, tag: string, created: DoctorCreated): Promise<string[]> {
  const out: string[] = [];
  const body = {
    name: `flash_doctor_bare_${tag}`,
    type: "LOAD_BALANCER" as const,
    image: "oven/bun:1",
    disk: 10,
    cpu: [{ id: "cpu3c", vcpuCount: 2 }],
    workers: { min: 0, max: 1, idleTimeout: 5 },
    scaling: { type: "REQUEST_COUNT" as const, requestCount: 4 },
  };
  const unknown = await attempt(() => rest.request("POST", "/serverless", { ...body, flashDoctorBogus: 1 }));
  if (unknown.value) created.endpoints.add((unknown.value as V2Endpoint).id);
  out.push(
    unknown.error
      ? `(v2) an unknown field is refused with HTTP ${unknown.status}: ${unknown.error}`
      : "(v2) an unknown field is ACCEPTED (the document says unevaluatedProperties: false)",
  );
  const ep = await rest.createEndpoint(body);
  created.endpoints.add(ep.id);
  const env = Object.keys(ep.env ?? {});
  out.push(
    `6.1a Runpod ${env.includes("PORT") ? "DOES" : "does NOT"} put PORT into a load-balanced endpoint's env ` +
      `(env now: ${env.join(",") || "empty"})`,
  );
  const del = await attempt(() => rest.request("DELETE", `/serverless/${ep.id}`));
  if (del.error) out.push(`6.3 DELETE of an endpoint with workers.max 1 is refused (HTTP ${del.status}: ${del.error})`);
  else {
    out.push("6.3 DELETE of an endpoint with workers.max 1 is accepted: no 0/0 step");
    created.endpoints.delete(ep.id);
    const gone = await attempt(() => rest.request("GET", `/serverless/${ep.id}`));
    out.push(`(v2) GET of a deleted endpoint answers HTTP ${gone.status ?? 200}`);
  }
  return out;
}

/**
 * What the sources leave open about network volumes (flash finds them by name and data center, as runpod/flash
 * NetworkVolume._do_deploy does): the reply's fields, that the list shows it, what an endpoint with
 * `networkVolumes` reads back, and whether a volume in use can be deleted. A CPU endpoint with 0 workers: nothing
 * runs, nothing is billed but the volume's storage for about a minute.
 */
async function probeVolume(rest: RunpodRestV2, tag: string, created: DoctorCreated): Promise<string[]> {
  const out: string[] = [];
  const made = await rest.createNetworkVolume({ name: `flash_doctor_${tag}`, size: 10, dataCenter: "EU-RO-1" });
  if (!made?.id) throw new Error(`POST /v2/network-volumes answered no id: ${JSON.stringify(made)}`);
  created.volumes.add(made.id);
  out.push(`(volumes) POST /v2/network-volumes answered ${JSON.stringify(made)}`);
  const listed = await rest.listNetworkVolumes();
  out.push(`(volumes) GET /v2/network-volumes ${listed.some((v) => v.id === made.id) ? "lists" : "does NOT list"} it`);
  const ep = await rest.createEndpoint({
    name: `flash_doctor_vol_${tag}`,
    type: "QUEUE",
    image: "oven/bun:1",
    disk: 10,
    cpu: [{ id: "cpu3c", vcpuCount: 2 }],
    workers: { min: 0, max: 0, idleTimeout: 5 },
    scaling: { type: "QUEUE_DELAY", queueDelay: 4 },
    dataCenterIds: ["EU-RO-1"],
    networkVolumes: [made.id],
  });
  created.endpoints.add(ep.id);
  out.push(
    `(volumes) an endpoint created with networkVolumes reads back networkVolumes ${JSON.stringify(ep.networkVolumes)}, ` +
      `dataCenterIds ${JSON.stringify(ep.dataCenterIds)}`,
  );
  const early = await attempt(() => rest.deleteNetworkVolume(made.id));
  out.push(
    early.error
      ? `(volumes) deleting a volume an endpoint uses is refused: ${early.error}`
      : "(volumes) deleting a volume an endpoint uses is ACCEPTED",
  );
  if (!early.error) created.volumes.delete(made.id);
  await rest.deleteEndpoint(ep.id);
  created.endpoints.delete(ep.id);
  if (created.volumes.has(made.id)) {
    await rest.deleteNetworkVolume(made.id);
    created.volumes.delete(made.id);
  }
  return out;
}

/** Does `/status` of a FAILED job carry `output` next to `error`? A non-flash input fails the job. */
async function probeFailedJob(conn: Conn, endpointId: string): Promise<string> {
  const headers = { authorization: `Bearer ${conn.key}`, "content-type": "application/json" };
  const res = await fetch(`${conn.endpointBaseUrl}/${endpointId}/runsync?wait=60000`, {
    method: "POST",
    headers,
    body: JSON.stringify({ input: { doctor: "not a flash call" } }),
  });
  let job = (await res.json()) as any;
  for (let i = 0; i < 60 && job?.id && !["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"].includes(job.status); i++) {
    await Bun.sleep(1000);
    job = await (await fetch(`${conn.endpointBaseUrl}/${endpointId}/status/${job.id}`, { headers })).json();
  }
  if (job?.status !== "FAILED") return `6.5 not settled: the worker ended a bad input as ${job?.status} (not FAILED)`;
  return `6.5 /status of a FAILED job ${"output" in job ? "CARRIES" : "has no"} output next to error (keys: ${Object.keys(job).sort().join(",")})`;
}

/** What `GET /v2/catalog/gpus` says of serverless pools: how many, the price range, the CUDA versions offered. */
async function probeCatalog(rest: RunpodRestV2): Promise<string> {
  const gpus = await rest.gpuTypes(true);
  const pools = new Set(gpus.map((g) => g.pool).filter(Boolean));
  const prices = gpus.map((g) => g.price.serverless).filter((p): p is number => typeof p === "number");
  const cuda = new Set(gpus.flatMap((g) => g.cudaVersions?.map((c) => c.version) ?? []));
  if (!pools.size) throw new Error("the catalog lists no GPU in a serverless pool");
  const range = prices.length ? `${usd(Math.min(...prices))}–${usd(Math.max(...prices))}/h per GPU` : "no prices";
  return `(catalog) ${gpus.length} GPU types in ${pools.size} serverless pools, ${range}, CUDA ${[...cuda].sort().join(",") || "not listed"}`;
}

/** The status of an LB request when no worker can take it (after scaling the endpoint to 0). */
async function probeLbNoWorkers(rest: RunpodRestV2, conn: Conn, e: V2Endpoint, waitMs: number): Promise<string> {
  await rest.updateEndpoint(e.id, { workers: { min: 0, max: 0 } });
  const url = `${conn.lbBaseUrl.replaceAll("{id}", e.id)}/ping`;
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${conn.key}` },
      signal: AbortSignal.timeout(waitMs),
    });
    return `6.6 an LB request with no workers gets HTTP ${res.status}: ${(await res.text()).slice(0, 120)}`;
  } catch {
    return `6.6 not settled: an LB request with no workers got no answer within ${fmt(waitMs)}`;
  }
}

/**
 * A one-example workspace (the doctor's queue and load-balanced functions) built as `flash deploy` builds it, then
 * every template's start command run from its image against that artifact in a throwaway local emulator: a queue
 * worker must take a job, a load-balanced one (the mothership included) answer /ping 200. Nothing leaves the machine.
 */
async function checkDeployedStarts(tmp: string, tag: string) {
  const ws = join(tmp, "start-check");
  mkdirSync(join(ws, "01_doctor", "01_start"), { recursive: true });
  writeFileSync(
    join(ws, "package.json"),
    JSON.stringify({ name: "flash-doctor-start", private: true, type: "module" }),
  );
  writeFileSync(join(ws, "01_doctor", "01_start", "doctor.ts"), doctorModule(tag));
  const { runBuild } = await import("../deploy/build");
  const { checkStartCommands } = await import("./_start-check");
  const checks = await checkStartCommands(await runBuild({ root: ws, app: `flash_doctor_${tag}` }));
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) throw new Error(failed.map((c) => `${c.resource} (${c.image}): ${c.detail}`).join("\n"));
  return checks;
}

/**
 * What only a real key settles about the Flash plane (no public source does): whether Runpod mounts a deployed
 * build at /root/.runpod/artifact.tar.gz into a stock image (its docs describe it for the Flash images only:
 * docs flash/apps/apps-and-environments.mdx), how soon, and at what size; whether the environment lists an endpoint
 * saved with `flashEnvironmentId` at once; whether a build's manifest comes back as sent; what
 * `deleteFlashEnvironment` does with attached endpoints. One CPU worker on `oven/bun` that only lists the folder.
 * The Flash plane exists only in GraphQL (runpod/flash core/api/runpod.py): without it, the questions stay open.
 */
async function probeFlashPlane(conn: Conn, tag: string, created: DoctorCreated, waitMs: number): Promise<string[]> {
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
    // The start command only lists the folder every 2 s for 2 minutes (the prefix is empty on Runpod).
    const start =
      `sh -c 'for i in $(seq 60); do echo "doctor t=$(( (i - 1) * 2 ))s"; ` +
      `ls -lL "$FLASH_CONTAINER_ROOT/root/.runpod/" 2>&1; sleep 2; done'`;
    const template = await gql.saveTemplate({
      name: `flash_doctor_mount_${tag}__tpl`,
      imageName: `oven/bun:${Bun.version}`,
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
            `(${lines.length} log lines): deployed workers must fetch their build (activeArtifact.downloadUrl)`,
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
 * Is a job with empty input dispatched? runpod/flash refuses to send one because Runpod "silently times out on
 * empty input instead of dispatching the job" (runpod/flash commit 02058db1, #302). The job is cancelled after.
 */
async function probeEmptyInput(conn: Conn, endpointId: string, waitMs: number): Promise<string> {
  const headers = { authorization: `Bearer ${conn.key}`, "content-type": "application/json" };
  const base = `${conn.endpointBaseUrl}/${endpointId}`;
  const run = await fetch(`${base}/run`, { method: "POST", headers, body: JSON.stringify({ input: {} }) });
  const job = (await run.json().catch(() => ({}))) as { id?: string; error?: string };
  if (!job.id) return `(input) /run with {"input": {}} is refused: HTTP ${run.status} ${JSON.stringify(job)}`;
  let status = "IN_QUEUE";
  const until = Date.now() + waitMs;
  while (status === "IN_QUEUE" && Date.now() < until) {
    await Bun.sleep(500);
    const res = await fetch(`${base}/status/${job.id}`, { headers });
    status = ((await res.json().catch(() => ({}))) as { status?: string }).status ?? "?";
  }
  await fetch(`${base}/cancel/${job.id}`, { method: "POST", headers }).catch(() => undefined);
  return status === "IN_QUEUE"
    ? `(input) a job with {"input": {}} stays IN_QUEUE (${fmt(waitMs)}, a warm worker idle): never send empty input`
    : `(input) a job with {"input": {}} is dispatched (status ${status})`;
}

/** What the doctor created and still has to remove. */
interface DoctorCreated {
  endpoints: Set<string>;
  volumes: Set<string>;
  /** Flash apps (deleting one deletes its environments and builds). */
  apps: Set<string>;
}

/** Whatever a failed run left behind: delete it (best effort, with a list of what remains). */
async function emergencyTeardown(rest: RunpodRestV2, conn: Conn, created: DoctorCreated): Promise<void> {
  if (!created.endpoints.size && !created.volumes.size && !created.apps.size) return;
  const left: string[] = [];
  for (const id of created.endpoints) {
    await rest
      .deleteEndpoint(id)
      .catch((error: Error) => left.push(`endpoint ${id} (${redact(error.message, conn.key)})`));
  }
  for (const id of created.volumes) {
    await rest.deleteNetworkVolume(id).catch(() => left.push(`network volume ${id} (Storage page of the console)`));
  }
  if (created.apps.size) {
    const { RunpodGraphql } = await import("../runpod/graphql");
    const { FlashAppClient } = await import("../deploy/flash-app-client");
    const apps = new FlashAppClient(new RunpodGraphql(new RunpodHttp(conn.key), conn.apiBaseUrl));
    for (const id of created.apps) await apps.deleteApp(id).catch(() => left.push(`Flash app ${id}`));
  }
  if (left.length) {
    log.error(`left on Runpod: ${left.join(", ")}. Delete them at https://console.runpod.io/serverless`);
  }
}

/** `flash doctor`: checks of the environment flash runs against. */
export default defineCommand({
  meta: { name: "doctor", description: COMMANDS.doctor },
  subCommands: {
    runpod: defineCommand({
      meta: {
        name: "runpod",
        description:
          "Smoke-test Runpod with RUNPOD_API_KEY (~2 min, a few cents): a CPU queue and a CPU load-balanced endpoint " +
          "with the default image, one call each, a config change, full teardown through REST v2; answers the platform's open questions",
      },
      args: {
        "api-url": {
          type: "string",
          description: "API base URL: REST v2 under /v2 (default RUNPOD_API_BASE_URL or https://api.runpod.io)",
        },
        "endpoint-url": {
          type: "string",
          description: "Queue API base (default RUNPOD_ENDPOINT_BASE_URL or https://api.runpod.ai/v2)",
        },
        "lb-url": {
          type: "string",
          description: "LB URL with {id} (default RUNPOD_LB_BASE_URL or https://{id}.api.runpod.ai)",
        },
        "lb-probe": { type: "string", description: "How long to wait for an LB answer with no workers (default 20s)" },
        "mount-probe": {
          type: "string",
          description: "How long to watch a stock-image worker for the mounted Flash artifact (default 150s)",
        },
        "empty-input-probe": {
          type: "string",
          description: "How long a job with empty input is watched for a dispatch (default 10s)",
        },
        only: {
          type: "string",
          description: `Run only these parts, comma-separated (${DOCTOR_PARTS.join(", ")}); the key check always runs`,
        },
      },
      async run({ args }) {
        const cwd = process.cwd();
        loadDotEnvOrExit([locateWorkspace(resolve(cwd)).root, cwd]);
        const { requireApiKey, runpodUrls } = await import("../runpod/connection");
        let key: string;
        try {
          key = requireApiKey();
        } catch (error) {
          log.error((error as Error).message);
          process.exit(1);
        }
        const urls = runpodUrls({
          ...process.env,
          RUNPOD_API_BASE_URL: args["api-url"] || process.env.RUNPOD_API_BASE_URL,
          RUNPOD_ENDPOINT_BASE_URL:
            args["endpoint-url"] ||
            process.env.RUNPOD_ENDPOINT_BASE_URL ||
            (args["api-url"] ? `${args["api-url"].replace(/\/+$/, "")}/v2` : undefined),
          RUNPOD_LB_BASE_URL:
            args["lb-url"] ||
            process.env.RUNPOD_LB_BASE_URL ||
            (args["api-url"] ? `${args["api-url"].replace(/\/+$/, "")}/lb/{id}` : undefined),
        });
        let opts: DoctorOptions;
        try {
          opts = {
            lbProbeMs: parseDuration(args["lb-probe"] ?? "20s"),
            mountProbeMs: parseDuration(args["mount-probe"] ?? "150s"),
            emptyInputMs: parseDuration(args["empty-input-probe"] ?? "10s"),
            only: parseParts(args.only),
          };
        } catch (error) {
          log.error((error as Error).message);
          process.exit(1);
        }
        const code = await runDoctor({ ...urls, key }, opts);
        process.exit(code);
      },
    }),
  },
});
