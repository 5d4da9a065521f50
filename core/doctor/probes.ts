/**
 * The doctor's probes of Runpod's REST v2 control plane and job API: what the v2 document and the docs leave open
 * (unknown fields, PORT on load-balanced endpoints, deletes, network volumes, FAILED jobs, empty input, a
 * load-balanced request with no workers) and the GPU catalog. Each removes what it created.
 */
import type { RunpodRestV2, V2Endpoint } from "../runpod/rest-v2";
import { attempt, type Conn, type DoctorCreated, fmt, usd } from "./shared";

/**
 * What the v2 document leaves open, with a bare CPU load-balanced endpoint that never gets a request (workers.min 0:
 * no worker runs, nothing is billed): how an unknown field is refused, whether Runpod adds PORT to an LB endpoint's
 * env, whether an endpoint with workers.max 1 is deleted at once (GraphQL wanted 0/0 first), and what a deleted
 * endpoint answers.
 */
export async function probeControlPlane(rest: RunpodRestV2, tag: string, created: DoctorCreated): Promise<string[]> {
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
export async function probeVolume(rest: RunpodRestV2, tag: string, created: DoctorCreated): Promise<string[]> {
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
export async function probeFailedJob(conn: Conn, endpointId: string): Promise<string> {
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
export async function probeCatalog(rest: RunpodRestV2): Promise<string> {
  const gpus = await rest.gpuTypes(true);
  const pools = new Set(gpus.map((g) => g.pool).filter(Boolean));
  const prices = gpus.map((g) => g.price.serverless).filter((p): p is number => typeof p === "number");
  const cuda = new Set(gpus.flatMap((g) => g.cudaVersions?.map((c) => c.version) ?? []));
  if (!pools.size) throw new Error("the catalog lists no GPU in a serverless pool");
  const range = prices.length ? `${usd(Math.min(...prices))}–${usd(Math.max(...prices))}/h per GPU` : "no prices";
  return `(catalog) ${gpus.length} GPU types in ${pools.size} serverless pools, ${range}, CUDA ${[...cuda].sort().join(",") || "not listed"}`;
}

/** The status of an LB request when no worker can take it (after scaling the endpoint to 0). */
export async function probeLbNoWorkers(rest: RunpodRestV2, conn: Conn, e: V2Endpoint, waitMs: number): Promise<string> {
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
 * Is a job with empty input dispatched? runpod/flash refuses to send one because Runpod "silently times out on
 * empty input instead of dispatching the job" (runpod/flash commit 02058db1, #302). The job is cancelled after.
 */
export async function probeEmptyInput(conn: Conn, endpointId: string, waitMs: number): Promise<string> {
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
