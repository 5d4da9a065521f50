/**
 * `flash doctor runpod`: a smoke test of Runpod with the user's own key. It does what `flash run --target runpod`
 * does (a CPU queue endpoint and a CPU load-balanced endpoint with the default image, one call on each through
 * flash's own client), changes a config, tears everything down through Runpod's REST API v2, deploys a one-example
 * app as `flash deploy` does, and on the way answers the open questions about the platform that no public source
 * settles (printed at the end). Every step prints its time and what it costs, and removes what it made, also on a
 * failure or Ctrl+C. The Flash plane and deploy steps need GraphQL (Flash apps have no REST API; without GraphQL they
 * report their questions as open): the rest passes against `flash emulator --retire-graphql`. The GPU step runs only
 * when asked. Durations Runpod decides are options, so a test against the emulator waits milliseconds.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log } from "../base/log";
import { RunpodApiError } from "../runpod/http";
import { LB_COLD_START_RETRY, TEMPLATE_DELETE_LAG_MS } from "../runpod/platform";
import type { V2Endpoint } from "../runpod/rest-v2";
import type { Target } from "../remote/target";
import type { ResourceConfig } from "../remote/config";
import type { RunpodTarget } from "../runpod/runpod-target";
import {
  buildDeployWorkspace,
  checkDeployedStarts,
  type Deployed,
  reach,
  redeploy,
  removeDeployed,
} from "./deploy-steps";
import { probeFlashPlane } from "./flash-plane";
import {
  probeCatalog,
  probeControlPlane,
  probeEmptyInput,
  probeFailedJob,
  probeLbNoWorkers,
  probeVolume,
} from "./probes";
import {
  type Conn,
  doctorModule,
  emergencyTeardown,
  fmt,
  nothingCreated,
  PRICES,
  removeTemplates,
  restOf,
  StepRunner,
  usd,
} from "./shared";
import {
  type DoctorFunctions,
  gpuCostEstimate,
  probeCpuRegion,
  probeGpu,
  probeIdle,
  probeStream,
  probeStreamPlatform,
} from "./worker-steps";

/**
 * The doctor's parts, for `--only`: the key check always runs; `endpoints` is the queue and load-balanced pair with
 * every check that needs them (calls, stream, config change, FAILED job, empty input, LB with no workers, teardown);
 * `deploy` is deploy → undeploy → deploy and the mothership's reach; `gpu` runs only when named (or with `--gpu`).
 */
export const DOCTOR_PARTS = [
  "starts",
  "endpoints",
  "idle",
  "control",
  "volume",
  "region",
  "catalog",
  "flash",
  "deploy",
  "gpu",
] as const;
/** One of the doctor's parts. */
type DoctorPart = (typeof DOCTOR_PARTS)[number];

/** What the doctor waits for where Runpod decides how long an answer takes; which parts run. */
export interface DoctorOptions {
  lbProbeMs: number;
  mountProbeMs: number;
  emptyInputMs: number;
  /** How long the idle step leaves its worker without a program (6 minutes by default). */
  idleMs: number;
  /** How long the stream step waits for the bare worker's job to end. */
  streamMs: number;
  /** How long the region step watches a CPU endpoint outside EU-RO-1 for a worker. */
  regionMs: number;
  /** How long the GPU step waits for its worker to stop before the restart. */
  gpuScaleDownMs: number;
  /** How long a cold load balancer is waited out (the deploy step's route calls). */
  coldStartMs: number;
  /** How long a teardown waits for Runpod to release a just-used template. */
  templateWaitMs: number;
  only: ReadonlySet<DoctorPart>;
}

/** The defaults of the durations (what a run against Runpod uses). */
export const DOCTOR_DEFAULTS = {
  lbProbe: "20s",
  mountProbe: "150s",
  emptyInputProbe: "10s",
  idleProbe: "6m",
  streamProbe: "3m",
  regionProbe: "90s",
  gpuScaleDown: "3m",
  coldStart: `${LB_COLD_START_RETRY.windowMs / 1000}s`,
  templateWait: `${(TEMPLATE_DELETE_LAG_MS + 10_000) / 1000}s`,
} as const;

/**
 * The parts `--only` names (every part but the GPU one when it is absent; `gpu` adds the GPU step); an unknown name
 * is an error that lists the known ones.
 */
export function parseParts(only: string | undefined, gpu = false): ReadonlySet<DoctorPart> {
  const all = new Set<DoctorPart>(DOCTOR_PARTS.filter((p) => p !== "gpu"));
  if (gpu) all.add("gpu");
  if (!only) return all;
  const names = only
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(DOCTOR_PARTS as readonly string[]).includes(n));
  if (unknown.length || !names.length) {
    throw new Error(`--only: unknown part ${unknown.join(", ") || "(none)"}; known: ${DOCTOR_PARTS.join(", ")}`);
  }
  const parts = new Set(names as DoctorPart[]);
  if (gpu) parts.add("gpu");
  return parts;
}

/** A step's name says so when only a run against Runpod itself answers its question. */
const ONLY_RUNPOD = " [only a real key settles this]";

/** Between two looks at an endpoint's /health while waiting `ms`: a tenth of it, 20 ms to 5 s. */
const pollFor = (ms: number) => Math.min(5000, Math.max(20, Math.round(ms / 10)));

/** Run the smoke test; returns the exit code. */
export async function runDoctor(conn: Conn, opts: DoctorOptions): Promise<number> {
  const wants = (part: DoctorPart) => opts.only.has(part);
  const run = new StepRunner(conn.key);
  const { answers } = run;
  const step = run.step.bind(run);
  const tag = Math.random().toString(36).slice(2, 8);
  const tmp = mkdtempSync(join(tmpdir(), "flash-doctor-"));
  const created = nothingCreated();
  const rest = restOf(conn);
  const started = Date.now();
  let target: RunpodTarget | undefined;
  // Ctrl+C: remove what was created so far before leaving (endpoints bill while they have workers).
  const interrupted = async () => {
    log.warn("interrupted: removing what flash doctor created");
    await target?.shutdown().catch(() => {});
    await emergencyTeardown(conn, created, tag);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  const onSignal = () => void interrupted();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let workerMs = 0;
  let mod: (DoctorFunctions & Record<string, any>) | undefined;
  let configs: Record<string, ResourceConfig> = {};

  log.info(
    `flash doctor runpod: ${conn.apiBaseUrl} (tag ${tag}; everything it creates has "flash_doctor" in its name)`,
  );
  if (!/^https:\/\/api\.runpod\.io\/?$/.test(conn.apiBaseUrl)) {
    log.warn(
      `${conn.apiBaseUrl} is not Runpod: the answers below are that server's; steps marked "${ONLY_RUNPOD.trim()}" mean nothing until run with a real key against Runpod`,
    );
  }
  if (wants("gpu")) log.warn(`the GPU step is on: ${gpuCostEstimate()}`);
  /** flash's own client on the doctor's module (endpoints are created on first use). */
  const client = async () => {
    if (mod && target) return { mod, target };
    const env = {
      ...process.env,
      RUNPOD_API_KEY: conn.key,
      RUNPOD_API_BASE_URL: conn.apiBaseUrl,
      RUNPOD_ENDPOINT_BASE_URL: conn.endpointBaseUrl,
      RUNPOD_LB_BASE_URL: conn.lbBaseUrl,
    };
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "flash-doctor", private: true, type: "module" }));
    writeFileSync(join(tmp, "doctor.ts"), doctorModule(tag));
    const { createTarget } = await import("../runpod/runpod-target");
    const { setTarget } = await import("../remote/target");
    target = (await createTarget("runpod", { root: tmp, env })) as RunpodTarget;
    setTarget(target as Target);
    mod = (await import(join(tmp, "doctor.ts"))) as DoctorFunctions & Record<string, any>;
    configs = { idle: mod.idleConfig as ResourceConfig, gpu: mod.gpuConfig as ResourceConfig };
    return { mod, target };
  };
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

    // ── the deployed start commands, locally, before anything is spent ───────────────────────────────────
    const deployWs = join(tmp, "deploy");
    const build = wants("starts") || wants("deploy") ? await buildDeployWorkspace(deployWs, tag) : undefined;
    if (wants("starts") && build) {
      await step(
        "deployed start commands, locally: each template's start command from its image against a built artifact ($0)",
        () => checkDeployedStarts(build),
        (checks) => checks.map((c) => `${c.resource} ready in ${fmt(c.ms)} on ${c.image}`).join(", "),
      );
    }

    // ── what `flash run --target runpod` does: provision on first call, default image, one call each ──────
    let mine: V2Endpoint[] | undefined;
    let lbEndpoint: V2Endpoint | undefined;
    const endpointSteps = async (): Promise<number> => {
      const { mod } = await client();
      const callStart = Date.now();
      const queued = await step(
        "queue endpoint: created on first call, cold start, one call",
        async () => {
          const out = await mod.queueCall({ n: 21 });
          if (out?.doubled !== 42) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
          return out;
        },
        (o) => `answered 42 from bun ${o.bun}`,
        true,
      );
      const balanced = await step(
        "load-balanced endpoint: created on first call, cold start, one call",
        async () => {
          const out = await mod.lbCall({ n: 2 });
          if (out?.doubled !== 4) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
          return out;
        },
        (o) => `answered 4 from bun ${o.bun}`,
        true,
      );
      mine = await step(
        "the endpoints are listed ($0)",
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
      await step(
        `streaming: three small chunks and one of 1.5 MB, through flash's worker and a bare one (a warm worker and a cold one, ≈ ${usd(60 * PRICES.cpu)})${ONLY_RUNPOD}`,
        async () => {
          answers.push(await probeStream(mod));
          answers.push(await probeStreamPlatform(conn, tag, created, opts.streamMs));
        },
      );

      // ── a config change on each endpoint (a PATCH of one field), and the LB endpoint's env across it ──────
      lbEndpoint = mine?.find((e) => e.type === "LOAD_BALANCER");
      await step("config change: workers.max 1 → 2 on both endpoints (PATCH /v2/serverless/{id}) ($0)", async () => {
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
        await step(
          `load-balanced endpoint still answers after the change (its warm worker, ≈ ${usd(5 * PRICES.cpu)})`,
          async () => {
            const out = await mod.lbCall({ n: 5 });
            if (out?.doubled !== 10) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
          },
        );
      }
      const workedMs = Date.now() - callStart;
      await step(`the FAILED job shape (the warm queue worker, ≈ ${usd(5 * PRICES.cpu)})`, async () => {
        const q = mine?.find((e) => e.type !== "LOAD_BALANCER");
        if (!q) throw new Error("no queue endpoint");
        answers.push(await probeFailedJob(conn, q.id));
      });
      await step(`a job with empty input (no worker, $0)${ONLY_RUNPOD}`, async () => {
        const q = mine?.find((e) => e.type !== "LOAD_BALANCER");
        if (!q) throw new Error("no queue endpoint");
        answers.push(await probeEmptyInput(conn, q.id, opts.emptyInputMs));
      });
      return workedMs;
    };
    // ── teardown of the pair: DELETE (no 0/0 step in v2), list to verify ─────────────────────────────────
    const endpointTeardown = async () => {
      if (lbEndpoint) answers.push(await probeLbNoWorkers(rest, conn, lbEndpoint, opts.lbProbeMs));
      await step("teardown: delete every endpoint (DELETE /v2/serverless/{id}), verify it is gone ($0)", async () => {
        await target?.shutdown().catch(() => {});
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
    if (wants("idle")) {
      const cost = usd((opts.idleMs / 1000) * PRICES.cpu);
      await step(
        `idle bootstrap health: a default-image queue worker left ${fmt(opts.idleMs)} without its program, then a call (one CPU worker ≈ ${cost})${ONLY_RUNPOD}`,
        async () => {
          const { mod, target } = await client();
          answers.push(
            await probeIdle(conn, () => target.provisioner.ensure(configs.idle!), mod, created, {
              idleMs: opts.idleMs,
              pollMs: pollFor(opts.idleMs),
            }),
          );
        },
      );
    }
    if (wants("gpu")) {
      await step(
        `GPU default image: cold start, Bun download, restart (${gpuCostEstimate()})${ONLY_RUNPOD}`,
        async () => {
          const { mod, target } = await client();
          answers.push(
            await probeGpu(conn, () => target.provisioner.ensure(configs.gpu!), mod, created, {
              scaleDownMs: opts.gpuScaleDownMs,
              pollMs: pollFor(opts.gpuScaleDownMs),
            }),
          );
        },
      );
    }
    if (wants("control")) {
      await step("open questions about the REST v2 control plane (no worker, $0)", async () => {
        answers.push(...(await probeControlPlane(rest, tag, created)));
      });
    }
    if (wants("volume")) {
      await step(
        `network volume through the call flash sends (POST /v2/network-volumes): create, attach to an endpoint, delete (10 GB for a minute, no worker, ≈ ${usd(0.0001)})${ONLY_RUNPOD}`,
        async () => {
          answers.push(...(await probeVolume(rest, tag, created)));
        },
      );
    }
    if (wants("region")) {
      await step(
        `CPU endpoint outside EU-RO-1 (US-KS-2): refused, a worker, or throttled (at most one CPU worker for ${fmt(opts.regionMs)} ≈ ${usd((opts.regionMs / 1000) * PRICES.cpu)})${ONLY_RUNPOD}`,
        async () => {
          answers.push(
            await probeCpuRegion(conn, tag, created, { watchMs: opts.regionMs, pollMs: pollFor(opts.regionMs) }),
          );
        },
      );
    }
    if (wants("catalog")) {
      await step("the GPU catalog answers (pools, serverless prices, CUDA versions; $0)", async () => {
        answers.push(await probeCatalog(rest));
      });
    }
    if (wants("flash")) {
      await step(
        `Flash plane: a build on a stock image — is the artifact mounted, when, and what the environment says${ONLY_RUNPOD}`,
        async () => {
          const t0 = Date.now();
          answers.push(...(await probeFlashPlane(conn, tag, created, opts.mountProbeMs)));
          return Date.now() - t0;
        },
        (ms) => `one CPU worker ≈ ${usd((ms / 1000) * PRICES.cpu)}`,
      );
    }
    if (wants("deploy") && build) {
      let deployed: Deployed | undefined;
      await step(
        `deploy → undeploy → deploy within a minute (3 CPU endpoints, no worker, $0)${ONLY_RUNPOD}`,
        async () => {
          try {
            const r = await redeploy(conn, build, created);
            deployed = r;
            return r.detail;
          } catch (error) {
            // A deploy needs GraphQL (saveTemplate, saveEndpoint): where it is retired, the question stays open.
            if (!/GraphQL API is retired/.test((error as Error).message)) throw error;
            answers.push(`(deploy) not settled: ${(error as Error).message.slice(0, 160)}`);
            return "not settled (no GraphQL)";
          }
        },
        (d) => d,
      );
      if (deployed) {
        const d = deployed;
        await step(
          `mothership reach: route calls through the app URL from cold (2–3 cold CPU workers ≈ ${usd(180 * PRICES.cpu)})${ONLY_RUNPOD}`,
          () => reach(conn, d, build, { coldStartMs: opts.coldStartMs, retryDelayMs: LB_COLD_START_RETRY.delayMs }),
          (detail) => detail,
          true,
        );
        await step("deploy teardown: delete the environment's endpoints, templates and the app ($0)", () =>
          removeDeployed(conn, d.app, created, opts.templateWaitMs),
        );
      }
    }
    if (wants("endpoints")) await endpointTeardown();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await target?.shutdown().catch(() => {});
    await emergencyTeardown(conn, created, tag);
    const templates = await removeTemplates(conn, tag, opts.templateWaitMs);
    if (templates.length) {
      log.error(
        `templates left on Runpod: ${templates.join(", ")}. Delete them at https://console.runpod.io/user/templates`,
      );
    }
    rmSync(tmp, { recursive: true, force: true });
  }

  answers.push("6.7 missed pings during a long job: not settled here (it needs a job that blocks for minutes)");
  const failed = run.steps.filter((s) => !s.ok);
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
    log.error(
      `\n${failed.length} of ${run.steps.length} steps failed (${total}): ${failed.map((s) => s.name).join("; ")}`,
    );
    return 1;
  }
  log.success(`\nall ${run.steps.length} steps passed (${total})`);
  return 0;
}
