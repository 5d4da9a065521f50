/**
 * The doctor's worker steps, which need workers to run (and so cost worker time, printed with each): a stream with a
 * chunk over Runpod's 1 MB limit, a default-image worker left idle without its program, a CPU endpoint outside
 * EU-RO-1, and (only when asked: a GPU bills ~8× a CPU) a cold start of the default GPU image, then a restart.
 */
import type { EndpointHealth } from "../runpod/api";
import { STREAM_CHUNK_LIMIT } from "../runpod/platform";
import type { Provisioned } from "../runpod/provision";
import { attempt, type Conn, type DoctorCreated, fmt, PRICES, restOf, usd } from "./shared";

/** The doctor module's functions the worker steps call (see shared.ts `doctorModule`). */
export interface DoctorFunctions {
  streamCall: (x: { big: number }) => AsyncIterable<{ i: number; text: string }>;
  idleCall: (x: { n: number }) => Promise<{ doubled: number }>;
  gpuCall: () => Promise<{ now: number; startedAt: number; bunAt: number; bun: string }>;
  idleConfig: unknown;
  gpuConfig: unknown;
}

/** An endpoint's `/health` counters. */
async function health(conn: Conn, endpointId: string): Promise<EndpointHealth> {
  const res = await fetch(`${conn.endpointBaseUrl}/${endpointId}/health`, {
    headers: { authorization: `Bearer ${conn.key}` },
  });
  if (!res.ok) throw new Error(`GET /health answered ${res.status}`);
  return (await res.json()) as EndpointHealth;
}

/** The size of the big chunk: half again Runpod's limit per streamed chunk. */
const BIG_CHUNK = Math.round(STREAM_CHUNK_LIMIT * 1.5);

/**
 * A generator yielding three small chunks, then one of 1.5 MB, on a CPU queue endpoint: which chunks arrive, and
 * what ends the call (flash's worker refuses a chunk over 1 MB before posting it, docs
 * serverless/endpoints/operation-reference; the final `/status` must still carry flash's response as `output`).
 */
export async function probeStream(fns: DoctorFunctions): Promise<string> {
  const got: number[] = [];
  let ended = "the call ended without an error";
  try {
    for await (const chunk of fns.streamCall({ big: BIG_CHUNK })) got.push(JSON.stringify(chunk).length);
  } catch (error) {
    ended = `the call failed: ${(error as Error).message.slice(0, 200)}`;
  }
  const small = got.filter((n) => n < 1000).length;
  if (small !== 3) throw new Error(`expected 3 small chunks first, got sizes ${got.join(", ") || "none"}`);
  const big = got.find((n) => n >= 1000);
  return (
    `(stream) 3 small chunks arrived through /stream in order; the ${(BIG_CHUNK / 1e6).toFixed(1)} MB chunk ` +
    `${big ? `ARRIVED whole (${big} bytes)` : "did not arrive"}, and ${ended}` +
    `${big ? "" : " (the final /status carried flash's response)"}`
  );
}

/**
 * A bare queue worker (plain Bun on `oven/bun`, no flash) that answers every job as a generator does on Runpod
 * (runpod-python rp_job.py / rp_http.py: chunks to the job-stream URL with `isStream=false`, then job-done with
 * `isStream=true`): three small chunks, then one of `input.big` bytes, then an output that lists the HTTP status
 * of each chunk's POST. It shows what Runpod itself does with a chunk over 1 MB, which flash's worker never sends.
 */
const RAW_STREAM_WORKER = `
const e = process.env, id = e.RUNPOD_POD_ID || "doctor";
const q = (u, p) => u + (u.includes("?") ? "&" : "?") + p;
const take = q(e.RUNPOD_WEBHOOK_GET_JOB.replaceAll("$ID", id), "job_in_progress=0");
const done = e.RUNPOD_WEBHOOK_POST_OUTPUT.replaceAll("$RUNPOD_POD_ID", id);
const stream = (e.RUNPOD_WEBHOOK_POST_STREAM || "").replaceAll("$RUNPOD_POD_ID", id);
const h = { authorization: e.RUNPOD_AI_API_KEY || "", "content-type": "application/json" };
for (;;) {
  const r = await fetch(take, { headers: h }).catch(() => undefined);
  const t = r && r.status === 200 ? await r.text() : (await r?.body?.cancel(), await Bun.sleep(500), "");
  const job = t ? JSON.parse(t) : undefined;
  if (!job?.id) continue;
  const sent = [];
  const chunks = [{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4, text: "x".repeat(job.input?.big ?? 0) }];
  for (const c of chunks) {
    const res = await fetch(q(stream.replaceAll("$ID", job.id), "isStream=false"), { method: "POST", headers: h, body: JSON.stringify({ output: c }) }).catch((x) => ({ status: String(x) }));
    sent.push(res.status);
  }
  await fetch(q(done.replaceAll("$ID", job.id), "isStream=true"), { method: "POST", headers: h, body: JSON.stringify({ output: { doctor: "done", sent } }) });
}
`;

/**
 * What Runpod does with a streamed chunk over 1 MB (docs serverless/endpoints/operation-reference: "Maximum size for
 * a single streamed payload chunk is 1 MB"): a bare worker posts three small chunks and one of 1.5 MB; the doctor
 * reads `/stream` (the size of each entry it returns) and the final `/status` (is the job-done output kept?).
 * One CPU worker for its cold start; the endpoint is deleted after.
 */
export async function probeStreamPlatform(
  conn: Conn,
  tag: string,
  created: DoctorCreated,
  waitMs: number,
): Promise<string> {
  const rest = restOf(conn);
  const script = Buffer.from(RAW_STREAM_WORKER).toString("base64");
  const ep = await rest.createEndpoint({
    name: `flash_doctor_stream_${tag}`,
    type: "QUEUE",
    image: "oven/bun:1",
    args: `sh -c 'W="$FLASH_CONTAINER_ROOT/tmp/doctor-$$.js"; echo "$FLASH_DOCTOR_WORKER" | base64 -d > "$W" && exec bun "$W"'`,
    env: { FLASH_DOCTOR_WORKER: script },
    disk: 10,
    cpu: [{ id: "cpu3c", vcpuCount: 2 }],
    workers: { min: 0, max: 1, idleTimeout: 5 },
    scaling: { type: "QUEUE_DELAY", queueDelay: 4 },
  });
  created.endpoints.add(ep.id);
  const headers = { authorization: `Bearer ${conn.key}`, "content-type": "application/json" };
  const base = `${conn.endpointBaseUrl}/${ep.id}`;
  try {
    const run = await fetch(`${base}/run`, {
      method: "POST",
      headers,
      body: JSON.stringify({ input: { big: BIG_CHUNK } }),
    });
    const job = (await run.json()) as { id?: string };
    if (!job.id) throw new Error(`/run answered ${run.status} without a job id`);
    const sizes: number[] = [];
    let status = "IN_QUEUE";
    const until = Date.now() + waitMs;
    while (!["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"].includes(status) && Date.now() < until) {
      const res = await fetch(`${base}/stream/${job.id}`, { headers });
      const reply = (await res.json().catch(() => ({}))) as { status?: string; stream?: { output?: unknown }[] };
      status = reply.status ?? status;
      for (const c of reply.stream ?? []) sizes.push(JSON.stringify(c?.output ?? null).length);
      if (!reply.stream?.length) await Bun.sleep(250);
    }
    const final = (await (await fetch(`${base}/status/${job.id}`, { headers })).json()) as {
      status?: string;
      output?: { sent?: unknown[] };
    };
    const sent = final.output?.sent;
    return (
      `(stream) Runpod's /stream returned entries of ${sizes.join(", ") || "no"} bytes for 3 small chunks and one of ` +
      `${(BIG_CHUNK / 1e6).toFixed(1)} MB (the worker's chunk POSTs answered ${JSON.stringify(sent ?? "?")}); the final ` +
      `/status is ${final.status} ${sent ? "and keeps the job-done output" : "WITHOUT the job-done output"}`
    );
  } finally {
    await rest.deleteEndpoint(ep.id);
    created.endpoints.delete(ep.id);
  }
}

/** Options of the idle step. */
export interface IdleOptions {
  /** How long the worker stays idle before the call (6 minutes against Runpod). */
  idleMs: number;
  /** Between two looks at /health. */
  pollMs: number;
}

/**
 * A default-image queue worker (workersMin 1) waits for its program, which only comes with the first call: does
 * Runpod leave a worker that never pings alone for `idleMs`, and does it take a job after? `/health` is read all
 * along; an `unhealthy` count means Runpod marked it.
 */
export async function probeIdle(
  conn: Conn,
  ensure: () => Promise<Provisioned>,
  fns: DoctorFunctions,
  created: DoctorCreated,
  opts: IdleOptions,
): Promise<string> {
  const endpoint = await ensure();
  created.endpoints.add(endpoint.endpointId);
  let unhealthy = 0;
  let sawWorker = false;
  const until = Date.now() + opts.idleMs;
  while (Date.now() < until) {
    const h = await health(conn, endpoint.endpointId).catch(() => undefined);
    if (h) {
      unhealthy = Math.max(unhealthy, h.workers.unhealthy);
      sawWorker ||= h.workers.idle + h.workers.ready + h.workers.initializing + h.workers.running > 0;
    }
    await Bun.sleep(Math.min(opts.pollMs, Math.max(0, until - Date.now())));
  }
  const t0 = Date.now();
  const out = await fns.idleCall({ n: 3 });
  if (out?.doubled !== 6) throw new Error(`unexpected answer ${JSON.stringify(out)}`);
  return (
    `(idle) a default-image worker left ${fmt(opts.idleMs)} without its program ${sawWorker ? "was listed" : "was NOT listed"} ` +
    `by /health, was ${unhealthy ? `marked unhealthy (${unhealthy})` : "never marked unhealthy"}, and took a job after ` +
    `(answered in ${fmt(Date.now() - t0)}): the bootstrap ${unhealthy ? "must ping while it waits" : "needs no ping while it waits"}`
  );
}

/** Options of the CPU-region step. */
export interface RegionOptions {
  /** How long the endpoint (scaled to one worker) is watched for a worker or a throttle. */
  watchMs: number;
  pollMs: number;
}

/**
 * A CPU endpoint in US-KS-2 (runpod/flash allows CPU endpoints only in EU-RO-1: core/resources/datacenter.py): is it
 * refused when created, or does it get a worker, or stay throttled? The request goes out as flash would send it
 * if it did not refuse the config first. The worker only sleeps; the endpoint is deleted after.
 */
export async function probeCpuRegion(
  conn: Conn,
  tag: string,
  created: DoctorCreated,
  opts: RegionOptions,
): Promise<string> {
  const rest = restOf(conn);
  const made = await attempt(() =>
    rest.createEndpoint({
      name: `flash_doctor_region_${tag}`,
      type: "QUEUE",
      image: "oven/bun:1",
      args: "sh -c 'sleep 600'",
      disk: 10,
      cpu: [{ id: "cpu3c", vcpuCount: 2 }],
      workers: { min: 0, max: 1, idleTimeout: 5 },
      scaling: { type: "QUEUE_DELAY", queueDelay: 4 },
      dataCenterIds: ["US-KS-2"],
    }),
  );
  if (!made.value)
    return `(region) a CPU endpoint in US-KS-2 is refused at creation: HTTP ${made.status} ${made.error}`;
  const id = made.value.id;
  created.endpoints.add(id);
  try {
    await rest.updateEndpoint(id, { workers: { min: 1, max: 1 } });
    const until = Date.now() + opts.watchMs;
    let last: EndpointHealth["workers"] | undefined;
    while (Date.now() < until) {
      last = (await health(conn, id).catch(() => undefined))?.workers ?? last;
      if (last && last.idle + last.ready + last.initializing + last.running + last.unhealthy > 0) {
        return `(region) a CPU endpoint in US-KS-2 is accepted and GETS a worker (${JSON.stringify(last)}): CPU serverless runs outside EU-RO-1`;
      }
      await Bun.sleep(opts.pollMs);
    }
    return (
      `(region) a CPU endpoint in US-KS-2 is accepted but gets no worker in ${fmt(opts.watchMs)} ` +
      `(${last?.throttled ? `throttled ${last.throttled}` : `workers ${JSON.stringify(last ?? {})}`}): keep refusing CPU configs outside EU-RO-1`
    );
  } finally {
    await rest.deleteEndpoint(id);
    created.endpoints.delete(id);
  }
}

/** Options of the GPU step. */
export interface GpuOptions {
  /** How long to wait for the first worker to go idle and stop before the restart call. */
  scaleDownMs: number;
  pollMs: number;
}

/** The cost of the GPU step printed before it runs: about five minutes of the cheapest pool's worker time. */
export function gpuCostEstimate(): string {
  return `one 16 GB GPU worker (AMPERE_16) for about 5 minutes ≈ ${usd(300 * PRICES.gpu16)}`;
}

/**
 * The default GPU image (`runpod/pytorch`, no Bun in it: the start command downloads Bun) from cold: endpoint
 * created → first answer, and inside that, container start → Bun written → answer (worker clock). Then, once the
 * worker stopped for idleness, the same again: a FlashBoot restart shows as a shorter start and no new Bun download.
 */
export async function probeGpu(
  conn: Conn,
  ensure: () => Promise<Provisioned>,
  fns: DoctorFunctions,
  created: DoctorCreated,
  opts: GpuOptions,
): Promise<string> {
  const endpoint = await ensure();
  created.endpoints.add(endpoint.endpointId);
  const cold = async () => {
    const t0 = Date.now();
    const r = await fns.gpuCall();
    return { total: Date.now() - t0, bun: r.bunAt - r.startedAt, after: r.now - r.bunAt, bunAt: r.bunAt };
  };
  const first = await cold();
  const until = Date.now() + opts.scaleDownMs;
  let stopped = false;
  while (!stopped && Date.now() < until) {
    await Bun.sleep(opts.pollMs);
    const w = (await health(conn, endpoint.endpointId).catch(() => undefined))?.workers;
    stopped = !!w && w.idle + w.ready + w.running + w.initializing === 0;
  }
  const second = await cold();
  const line = (c: typeof first) =>
    `${fmt(c.total)} to the answer (container start → Bun ready ${fmt(c.bun)}, Bun ready → answer ${fmt(c.after)})`;
  return (
    `(gpu) default GPU image from cold: ${line(first)}; ${stopped ? "after the worker stopped" : "with the worker still up"}, ` +
    `again: ${line(second)}, Bun ${second.bunAt === first.bunAt ? "NOT downloaded again (the container was restored)" : "downloaded again"}`
  );
}
