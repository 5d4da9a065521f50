/**
 * `flash doctor runpod`: a smoke test of Runpod with the user's own key, in about two minutes and a few cents.
 * It does what `flash run --target runpod` does (a CPU queue endpoint and a CPU load-balanced endpoint with the
 * default image, one call on each through flash's own client), changes a config, tears everything down as Runpod
 * documents it (scale to 0/0, delete, delete templates, list to verify), and on the way answers the open
 * questions about the platform that no public source settles, network volumes among them (printed at the end).
 * Every step prints its time, and what the worker time would cost on a GPU. `--api-url` (and friends) point it at an emulator for tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { loadDotEnvOrExit } from "./_shared";
import { log } from "../base/log";
import { locateWorkspace } from "../workspace/discovery";
import { COMMANDS } from "./catalog";
import { parseDuration } from "./emulator";
import { redact } from "../runpod/http";

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

/** A GraphQL reply as the doctor sees it: HTTP status, data and the first error message. */
interface Reply {
  status: number;
  data: any;
  error?: string;
}

async function graphql(conn: Conn, query: string, variables?: Record<string, unknown>): Promise<Reply> {
  const res = await fetch(`${conn.apiBaseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${conn.key}` },
    body: JSON.stringify({ query, variables: variables ?? {} }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let body: any = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: text.slice(0, 200) }] };
  }
  return { status: res.status, data: body.data, error: body.errors?.[0]?.message };
}

/** Like `graphql`, but a non-200 status or an `errors` array is thrown. */
async function must(conn: Conn, query: string, variables?: Record<string, unknown>): Promise<any> {
  const r = await graphql(conn, query, variables);
  if (r.status === 401) throw new Error("the API key was rejected (HTTP 401): check RUNPOD_API_KEY");
  if (r.status !== 200 || r.error) throw new Error(`GraphQL ${r.status}: ${r.error ?? "no data"}`);
  return r.data;
}

const ENDPOINT_FIELDS =
  "id name templateId type gpuIds gpuCount instanceIds workersMin workersMax idleTimeout scalerType scalerValue " +
  "locations networkVolumeId flashBootType executionTimeoutMs version";

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

/** Run the smoke test; returns the exit code. */
async function runDoctor(conn: Conn, opts: { waitTemplatesMs: number; lbProbeMs: number }): Promise<number> {
  const steps: Step[] = [];
  const answers: string[] = [];
  const tag = Math.random().toString(36).slice(2, 8);
  const tmp = mkdtempSync(join(tmpdir(), "flash-doctor-"));
  const created = { endpoints: new Set<string>(), templates: new Set<string>(), volumes: new Set<string>() };
  const started = Date.now();
  // Ctrl+C: remove what was created so far before leaving (endpoints bill while they have workers).
  const interrupted = async () => {
    log.warn("interrupted: removing what flash doctor created");
    await emergencyTeardown(conn, created);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", () => void interrupted());
  let workerMs = 0;

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
    const me = await step(
      "the API key is accepted",
      () => must(conn, "query { myself { id } }"),
      (d) => `user ${d.myself?.id}`,
    );
    if (!me) return 1;

    // ── 1. what `flash run --target runpod` does: provision on first call, default image, one call each ──
    writeFileSync(join(tmp, "package.json"), JSON.stringify({ name: "flash-doctor", private: true, type: "module" }));
    writeFileSync(join(tmp, "doctor.ts"), doctorModule(tag));
    const env = {
      ...process.env,
      RUNPOD_API_KEY: conn.key,
      RUNPOD_API_BASE_URL: conn.apiBaseUrl,
      RUNPOD_ENDPOINT_BASE_URL: conn.endpointBaseUrl,
      RUNPOD_LB_BASE_URL: conn.lbBaseUrl,
    };
    const { createTarget } = await import("../runpod/runpod-target");
    const { setTarget } = await import("../remote/target");
    const target = await createTarget("runpod", { root: tmp, env });
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
    const mine = await step(
      "the endpoints are listed",
      async () => {
        const list = (await must(conn, `query { myself { endpoints { ${ENDPOINT_FIELDS} } } }`)).myself
          .endpoints as any[];
        const ours = list.filter((e) => e.name.includes(`flash_doctor_`) && e.name.includes(tag));
        for (const e of ours) {
          created.endpoints.add(e.id);
          created.templates.add(e.templateId);
        }
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

    // ── 2. a config change on each endpoint (full replace), and the LB template's env across it ──────────
    const lbEndpoint = mine?.find((e) => e.type === "LB");
    const templateEnv = async (id: string) =>
      ((await must(conn, "query t($id: String!) { podTemplate(id: $id) { env { key value } } }", { id })).podTemplate
        ?.env ?? []) as { key: string; value: string }[];
    const lbEnvBefore = lbEndpoint ? await templateEnv(lbEndpoint.templateId).catch(() => undefined) : undefined;
    await step("config change: workersMax 1 → 2 on both endpoints (saveEndpoint, full replace)", async () => {
      for (const e of mine ?? []) {
        const input = endpointInput(e, { workersMax: 2 });
        const saved = (
          await must(
            conn,
            `mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { ${ENDPOINT_FIELDS} } }`,
            { input },
          )
        ).saveEndpoint;
        const drift = ["idleTimeout", "scalerType", "scalerValue", "type", "templateId"].filter(
          (k) => saved[k] !== e[k],
        );
        if (saved.workersMax !== 2 || drift.length) {
          throw new Error(
            `endpoint ${e.id}: workersMax ${saved.workersMax}, changed besides: ${drift.join(", ") || "none"}`,
          );
        }
      }
    });
    if (lbEndpoint) {
      const after = await templateEnv(lbEndpoint.templateId).catch(() => undefined);
      const keys = (env?: { key: string }[]) =>
        env
          ?.map((v) => v.key)
          .filter((k) => k.startsWith("PORT"))
          .join(",") || "none";
      answers.push(`(info) LB template PORT vars before the change: ${keys(lbEnvBefore)}; after: ${keys(after)}`);
      await step("load-balanced endpoint still answers after the change", async () => {
        const out = await mod.lbCall!({ n: 5 });
        if (out?.doubled !== 10) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
      });
    }
    workerMs = Date.now() - callStart;

    // ── 3. the open questions that cost nothing to settle (no worker runs) ───────────────────────────────
    await step("open questions about templates and endpoints", async () => {
      answers.push(...(await probeControlPlane(conn, tag, created)));
    });
    await step("network volume: create, attach to an endpoint, delete (10 GB for a minute, no worker)", async () => {
      answers.push(...(await probeVolume(conn, tag, created)));
    });
    await step("the FAILED job shape", async () => {
      const q = mine?.find((e) => e.type !== "LB");
      if (!q) throw new Error("no queue endpoint");
      answers.push(await probeFailedJob(conn, q.id));
    });

    // ── 4. teardown as documented: 0/0, delete, verify; templates after their deletion lag ─────────────
    if (lbEndpoint) {
      answers.push(await probeLbNoWorkers(conn, lbEndpoint, opts.lbProbeMs));
    }
    await step("teardown: scale every endpoint to 0/0, delete it, verify it is gone", async () => {
      const list = (await must(conn, `query { myself { endpoints { ${ENDPOINT_FIELDS} } } }`)).myself
        .endpoints as any[];
      for (const e of list.filter((x) => created.endpoints.has(x.id))) {
        await must(conn, "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
          input: endpointInput(e, { workersMin: 0, workersMax: 0 }),
        });
        await must(conn, "mutation d($id: String!) { deleteEndpoint(id: $id) }", { id: e.id });
      }
      const left = ((await must(conn, "query { myself { endpoints { id } } }")).myself.endpoints as any[]).filter((e) =>
        created.endpoints.has(e.id),
      );
      if (left.length) throw new Error(`still listed: ${left.map((e) => e.id).join(", ")}`);
      created.endpoints.clear();
    });
    await step(
      "teardown: delete the templates (Runpod: up to 2 min after their last use)",
      () => deleteTemplates(conn, created.templates, opts.waitTemplatesMs),
      (lag) => `deleted ${lag.count}; the last one ${fmt(lag.ms)} after its endpoint`,
    );
    await target.shutdown().catch(() => {});
  } finally {
    await emergencyTeardown(conn, created);
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

/** A full-replace EndpointInput from a listed endpoint, with some fields changed. */
function endpointInput(e: any, changes: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {
    id: e.id,
    name: e.name,
    templateId: e.templateId,
    type: e.type,
    workersMin: e.workersMin,
    workersMax: e.workersMax,
    idleTimeout: e.idleTimeout,
    scalerType: e.scalerType,
    scalerValue: e.scalerValue,
    executionTimeoutMs: e.executionTimeoutMs ?? 0,
    ...changes,
  };
  if (e.instanceIds?.length) input.instanceIds = e.instanceIds;
  else {
    input.gpuIds = e.gpuIds;
    input.gpuCount = e.gpuCount;
  }
  if (e.locations) input.locations = e.locations;
  if (e.networkVolumeId) input.networkVolumeId = e.networkVolumeId;
  if (e.flashBootType) input.flashBootType = e.flashBootType;
  return input;
}

/**
 * The control plane's rules, probed with a bare template and an LB endpoint that never gets a request (workersMin
 * 0: no worker runs, nothing is billed): whether Runpod adds PORT to a pre-created template, refuses a duplicate
 * template name, refuses deleting an endpoint that still has workers, types deleteTemplate's templateName as String!, and
 * accepts gpuIds "" on a CPU endpoint.
 */
async function probeControlPlane(
  conn: Conn,
  tag: string,
  created: { endpoints: Set<string>; templates: Set<string> },
): Promise<string[]> {
  const out: string[] = [];
  const name = `flash_doctor_bare_${tag}`;
  const tplInput = {
    name,
    imageName: "oven/bun:1",
    containerDiskInGb: 10,
    volumeInGb: 0,
    dockerArgs: "",
    env: [],
    isServerless: true,
  };
  const tpl = (
    await must(conn, "mutation t($input: SaveTemplateInput) { saveTemplate(input: $input) { id } }", {
      input: tplInput,
    })
  ).saveTemplate;
  created.templates.add(tpl.id);
  const dup = await graphql(conn, "mutation t($input: SaveTemplateInput) { saveTemplate(input: $input) { id } }", {
    input: tplInput,
  });
  out.push(
    dup.error
      ? `6.2 a duplicate template name is refused with HTTP ${dup.status}: "${dup.error}"`
      : `6.2 a duplicate template name is ACCEPTED (new id ${dup.data?.saveTemplate?.id}): names are not unique`,
  );
  if (!dup.error && dup.data?.saveTemplate?.id) created.templates.add(dup.data.saveTemplate.id);
  const epInput = {
    name: `flash_doctor_bare_${tag}`,
    templateId: tpl.id,
    type: "LB",
    instanceIds: ["cpu3c-2-4"],
    gpuIds: "",
    workersMin: 0,
    workersMax: 1,
    idleTimeout: 5,
    scalerType: "REQUEST_COUNT",
    scalerValue: 4,
  };
  let ep = await graphql(conn, "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
    input: epInput,
  });
  if (ep.error) {
    out.push(`6.8 gpuIds "" on a CPU endpoint is refused (HTTP ${ep.status}: "${ep.error}")`);
    const { gpuIds: _drop, ...rest } = epInput;
    ep = await graphql(conn, "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
      input: rest,
    });
  } else {
    out.push('6.8 gpuIds "" on a CPU endpoint is accepted');
  }
  const id = ep.data?.saveEndpoint?.id;
  if (!id) throw new Error(`could not create the bare LB endpoint: ${ep.error}`);
  created.endpoints.add(id);
  const env = (
    (await must(conn, "query t($id: String!) { podTemplate(id: $id) { env { key } } }", { id: tpl.id })).podTemplate
      ?.env ?? []
  ).map((v: any) => v.key);
  out.push(
    `6.1a Runpod ${env.includes("PORT") ? "DOES" : "does NOT"} put PORT into a pre-created template when an LB endpoint ` +
      `uses it (template env now: ${env.join(",") || "empty"})`,
  );
  const del = await graphql(conn, "mutation d($id: String!) { deleteEndpoint(id: $id) }", { id });
  if (del.error) {
    out.push(`6.3 deleteEndpoint with workersMax 1 is refused (HTTP ${del.status}: "${del.error}")`);
  } else {
    out.push("6.3 deleteEndpoint with workersMax 1 is ACCEPTED: the 0/0 rule is not enforced");
    created.endpoints.delete(id);
  }
  const nullable = await graphql(conn, "mutation d($n: String) { deleteTemplate(templateName: $n) }", {
    n: `flash_doctor_none_${tag}`,
  });
  out.push(
    /String!/.test(nullable.error ?? "")
      ? `6.4 deleteTemplate(templateName:) is String! (a nullable variable gets HTTP ${nullable.status})`
      : `6.4 deleteTemplate(templateName:) takes a nullable String (answer: HTTP ${nullable.status} "${nullable.error ?? "ok"}")`,
  );
  return out;
}

/**
 * What the sources leave open about network volumes (flash creates them by name with GraphQL createNetworkVolume,
 * as runpod/pulumi-runpod-native does; runpod/flash uses REST POST /networkvolumes with the same fields): the
 * reply's fields, that `myself { networkVolumes }` lists it, what an endpoint with `networkVolumeId` reads back,
 * and whether a volume in use can be deleted. A CPU endpoint with 0 workers: nothing runs, nothing is billed but
 * the volume's storage for about a minute.
 */
async function probeVolume(conn: Conn, tag: string, created: DoctorCreated): Promise<string[]> {
  const out: string[] = [];
  const fields = "id name size dataCenterId";
  const input = { name: `flash_doctor_${tag}`, size: 10, dataCenterId: "EU-RO-1" };
  const made = (
    await must(
      conn,
      `mutation v($input: CreateNetworkVolumeInput!) { createNetworkVolume(input: $input) { ${fields} } }`,
      { input },
    )
  ).createNetworkVolume;
  if (!made?.id) throw new Error(`createNetworkVolume answered no id: ${JSON.stringify(made)}`);
  created.volumes.add(made.id);
  out.push(`(volumes) createNetworkVolume answered ${JSON.stringify(made)}`);
  const listed = ((await must(conn, `query { myself { networkVolumes { ${fields} } } }`)).myself.networkVolumes ??
    []) as any[];
  out.push(`(volumes) myself.networkVolumes ${listed.some((v) => v.id === made.id) ? "lists" : "does NOT list"} it`);
  const tpl = (
    await must(conn, "mutation t($input: SaveTemplateInput) { saveTemplate(input: $input) { id } }", {
      input: {
        name: `flash_doctor_vol_${tag}`,
        imageName: "oven/bun:1",
        containerDiskInGb: 10,
        volumeInGb: 0,
        dockerArgs: "",
        env: [],
        isServerless: true,
      },
    })
  ).saveTemplate;
  created.templates.add(tpl.id);
  const ep = (
    await must(
      conn,
      "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id networkVolumeId networkVolumeIds { networkVolumeId dataCenterId } locations } }",
      {
        input: {
          name: `flash_doctor_vol_${tag}`,
          templateId: tpl.id,
          type: "QB",
          instanceIds: ["cpu3c-2-4"],
          workersMin: 0,
          workersMax: 0,
          idleTimeout: 5,
          scalerType: "QUEUE_DELAY",
          scalerValue: 4,
          locations: "EU-RO-1",
          networkVolumeId: made.id,
        },
      },
    )
  ).saveEndpoint;
  created.endpoints.add(ep.id);
  out.push(
    `(volumes) an endpoint saved with networkVolumeId reads back networkVolumeId ${JSON.stringify(ep.networkVolumeId)}, ` +
      `networkVolumeIds ${JSON.stringify(ep.networkVolumeIds)}`,
  );
  const early = await graphql(
    conn,
    "mutation d($input: DeleteNetworkVolumeInput!) { deleteNetworkVolume(input: $input) }",
    {
      input: { id: made.id },
    },
  );
  out.push(
    early.error
      ? `(volumes) deleting a volume an endpoint uses is refused: "${early.error}"`
      : "(volumes) deleting a volume an endpoint uses is ACCEPTED",
  );
  if (!early.error) created.volumes.delete(made.id);
  await must(conn, "mutation d($id: String!) { deleteEndpoint(id: $id) }", { id: ep.id });
  created.endpoints.delete(ep.id);
  if (created.volumes.has(made.id)) {
    await must(conn, "mutation d($input: DeleteNetworkVolumeInput!) { deleteNetworkVolume(input: $input) }", {
      input: { id: made.id },
    });
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

/** The status of an LB request when no worker can take it (after scaling the endpoint to 0). */
async function probeLbNoWorkers(conn: Conn, e: any, waitMs: number): Promise<string> {
  await must(conn, "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
    input: endpointInput(e, { workersMin: 0, workersMax: 0 }),
  });
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

/** Delete templates, retrying while Runpod still counts them as recently used; returns the lag of the last one. */
async function deleteTemplates(conn: Conn, ids: Set<string>, waitMs: number): Promise<{ count: number; ms: number }> {
  const t0 = Date.now();
  const poll = Math.min(10_000, Math.max(200, waitMs / 15));
  const names = new Map<string, string>();
  for (const t of (await must(conn, "query { myself { podTemplates { id name } } }")).myself.podTemplates as any[]) {
    if (ids.has(t.id)) names.set(t.id, t.name);
  }
  const total = names.size;
  let last = "";
  while (names.size) {
    for (const [id, name] of [...names]) {
      const r = await graphql(conn, "mutation d($name: String!) { deleteTemplate(templateName: $name) }", { name });
      if (!r.error) {
        names.delete(id);
        ids.delete(id);
      } else last = r.error;
    }
    if (!names.size) break;
    if (Date.now() - t0 > waitMs)
      throw new Error(`${names.size} template(s) still there after ${fmt(waitMs)}: ${last}`);
    await Bun.sleep(poll);
  }
  return { count: total, ms: Date.now() - t0 };
}

/** Whatever a failed run left behind: scale to 0/0 and delete (best effort, with a list of what remains). */
/** What the doctor created and still has to remove. */
interface DoctorCreated {
  endpoints: Set<string>;
  templates: Set<string>;
  volumes: Set<string>;
}

async function emergencyTeardown(conn: Conn, created: DoctorCreated): Promise<void> {
  if (!created.endpoints.size && !created.templates.size && !created.volumes.size) return;
  const left: string[] = [];
  try {
    const list = (await must(conn, `query { myself { endpoints { ${ENDPOINT_FIELDS} } } }`)).myself.endpoints as any[];
    for (const e of list.filter((x) => created.endpoints.has(x.id))) {
      try {
        await must(conn, "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
          input: endpointInput(e, { workersMin: 0, workersMax: 0 }),
        });
        await must(conn, "mutation d($id: String!) { deleteEndpoint(id: $id) }", { id: e.id });
      } catch {
        left.push(`endpoint ${e.name} (${e.id})`);
      }
    }
    for (const id of created.volumes) {
      const r = await graphql(
        conn,
        "mutation d($input: DeleteNetworkVolumeInput!) { deleteNetworkVolume(input: $input) }",
        {
          input: { id },
        },
      );
      if (r.error) left.push(`network volume ${id} (Storage page of the console)`);
    }
    const templates = (await must(conn, "query { myself { podTemplates { id name } } }")).myself.podTemplates as any[];
    for (const t of templates.filter((x) => created.templates.has(x.id))) {
      const r = await graphql(conn, "mutation d($name: String!) { deleteTemplate(templateName: $name) }", {
        name: t.name,
      });
      if (r.error) left.push(`template ${t.name}`);
    }
  } catch (error) {
    left.push(`(listing failed: ${redact((error as Error).message, conn.key)})`);
  }
  if (left.length) {
    log.error(
      `left on Runpod: ${left.join(", ")}. Templates can be deleted about 2 minutes after their endpoint: run ` +
        "flash doctor runpod again later, or delete them at https://console.runpod.io/serverless",
    );
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
          "with the default image, one call each, a config change, full teardown; answers the platform's open questions",
      },
      args: {
        "api-url": {
          type: "string",
          description: "GraphQL base URL (default RUNPOD_API_BASE_URL or https://api.runpod.io)",
        },
        "endpoint-url": {
          type: "string",
          description: "Queue API base (default RUNPOD_ENDPOINT_BASE_URL or https://api.runpod.ai/v2)",
        },
        "lb-url": {
          type: "string",
          description: "LB URL with {id} (default RUNPOD_LB_BASE_URL or https://{id}.api.runpod.ai)",
        },
        "wait-templates": { type: "string", description: "How long to retry deleting templates (default 150s)" },
        "lb-probe": { type: "string", description: "How long to wait for an LB answer with no workers (default 20s)" },
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
        let waitTemplatesMs: number;
        let lbProbeMs: number;
        try {
          waitTemplatesMs = parseDuration(args["wait-templates"] ?? "150s");
          lbProbeMs = parseDuration(args["lb-probe"] ?? "20s");
        } catch (error) {
          log.error((error as Error).message);
          process.exit(1);
        }
        const code = await runDoctor({ ...urls, key }, { waitTemplatesMs, lbProbeMs });
        process.exit(code);
      },
    }),
  },
});
