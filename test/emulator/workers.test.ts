/**
 * Workers on the emulator as on Runpod: an endpoint whose image is not flash's worker gets no emulator-started
 * worker, and any program speaking Runpod's worker protocol attaches with the environment the emulator prints;
 * images mapped to a local command run it; flash-managed templates run their start command; the stop channel,
 * FAILED jobs, LB ports, cold starts, crash loops and payload limits behave as Runpod documents them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { BOOTSTRAP_START, DEFAULT_GPU_IMAGE, installBunPython, WORKER_BUN_VERSION } from "../../core/runpod/mapping";
import { until } from "../fixtures/runpod/harness";
import { saveEndpoint } from "../helpers/emulator";

const KEY = "rpa_workers_test_key_0000000000000";
const PROTOCOL_WORKER = resolve(import.meta.dir, "../fixtures/runpod/protocol-worker.ts");
const LB_SERVER = resolve(import.meta.dir, "../fixtures/runpod/lb-server.ts");
let em: Emulator;
let tmp: string;
const external: Subprocess[] = [];

async function gql(query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${em.apiBaseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as any;
  if (body.errors) throw new Error(body.errors[0].message);
  return body.data;
}

let seq = 0;
/** An endpoint with its own template (image, env, start command), created through GraphQL like any client. */
async function endpoint(
  image: string,
  opts: { env?: Record<string, string>; dockerArgs?: string; type?: "QB" | "LB"; workersMin?: number } = {},
): Promise<string> {
  const name = `w${++seq}`;
  const env = Object.entries(opts.env ?? {}).map(([key, value]) => ({ key, value }));
  const data = await gql("mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", {
    input: {
      name,
      template: {
        name: `${name}-tpl`,
        imageName: image,
        containerDiskInGb: 10,
        dockerArgs: opts.dockerArgs ?? "",
        env,
      },
      instanceIds: ["cpu3c-2-4"],
      workersMin: opts.workersMin ?? 0,
      workersMax: 2,
      idleTimeout: 5,
      type: opts.type ?? "QB",
    },
  });
  return data.saveEndpoint.id;
}

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${em.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function finished(endpointId: string, jobId: string, ms = 15_000): Promise<any> {
  let job: any;
  await until(
    () => {
      void rest("GET", `/v2/${endpointId}/status/${jobId}`).then((r) => (job = r.body));
      return ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"].includes(job?.status);
    },
    ms,
    `job ${jobId} to finish`,
  );
  return job;
}

/** Start a worker by hand with the environment the emulator publishes for an endpoint. */
async function attachWorker(endpointId: string, extra: Record<string, string> = {}): Promise<Subprocess> {
  const { body } = await rest("GET", `/emulator/endpoints/${endpointId}/worker-env`);
  expect(body.launch).toBe("external");
  expect(body.env.RUNPOD_POD_ID).toBeUndefined();
  const proc = Bun.spawn([process.execPath, PROTOCOL_WORKER], {
    env: { PATH: process.env.PATH ?? "", ...body.env, RUNPOD_PING_INTERVAL: "100", ...extra },
    stdout: "ignore",
    stderr: "ignore",
  });
  external.push(proc);
  return proc;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-emu-workers-"));
  em = startEmulator({
    apiKey: KEY,
    takeHoldMs: 300,
    // The platform's clocks, shortened: timeouts are checked every 20 ms, a runsync may wait as little as 50 ms.
    sweepIntervalMs: 20,
    minSyncWaitMs: 50,
    control: { templateDeleteDelayMs: 0 },
    workers: {
      images: {
        "myorg/mapped": `exec '${process.execPath}' '${PROTOCOL_WORKER}'`,
        "myorg/lb:1": [process.execPath, LB_SERVER],
        "myorg/crash:1": "echo 'no such module' >&2; exit 3",
      },
      env: { STOP_LOG: join(tmp, "stops.log") },
      pingIntervalMs: 100,
      lbWaitMs: 300,
      attachedTimeoutMs: 800,
      crashBackoffMs: 200,
      tickMs: 25,
    },
  });
});

afterAll(async () => {
  for (const p of external) p.kill("SIGKILL");
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("external workers", () => {
  test("a custom image gets no emulator worker; a worker started with the printed env attaches and runs jobs", async () => {
    const id = await endpoint("myorg/custom:1");
    const queued = await rest("POST", `/v2/${id}/run`, { input: { mode: "echo", value: "queued first" } });
    await Bun.sleep(100); // four scaler ticks: none starts a worker
    expect(em.supervisor.alive(id)).toEqual([]);
    expect((await rest("GET", `/v2/${id}/status/${queued.body.id}`)).body.status).toBe("IN_QUEUE");
    const listing = (await rest("GET", "/")).body.endpoints.find((e: any) => e.id === id);
    expect(listing).toMatchObject({ image: "myorg/custom:1", launch: "external" });

    await attachWorker(id);
    const first = await finished(id, queued.body.id);
    expect(first.status).toBe("COMPLETED");
    // No RUNPOD_POD_ID given: the worker named itself (runpod-python: a uuid), and the emulator took that id.
    expect(first.workerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.output).toEqual({ echo: "queued first", worker: first.workerId });
    const sync = await rest("POST", `/v2/${id}/runsync`, { input: { mode: "echo", value: 2 } });
    expect(sync.body).toMatchObject({ status: "COMPLETED", output: { echo: 2 } });
    const health = (await rest("GET", `/v2/${id}/health`)).body;
    expect(health.workers.idle + health.workers.running).toBe(1);
    expect(health.jobs.completed).toBe(2);
    expect(em.supervisor.alive(id)).toEqual([]);
  }, 30_000);

  test.skipIf(!Bun.which("python3"))(
    "a Python worker (standard library only) attaches the same way",
    async () => {
      const id = await endpoint("myorg/python-handler:1");
      const { body } = await rest("GET", `/emulator/endpoints/${id}/worker-env`);
      const proc = Bun.spawn(["python3", resolve(import.meta.dir, "../fixtures/runpod/protocol_worker.py")], {
        env: { PATH: process.env.PATH ?? "", ...body.env },
        stdout: "ignore",
        stderr: "pipe",
      });
      external.push(proc);
      const res = await rest("POST", `/v2/${id}/runsync`, { input: { name: "emulator" } });
      expect(res.body).toMatchObject({ status: "COMPLETED", output: { greeting: "hello emulator" } });
      expect(res.body.output.python).toMatch(/^3\./);
      expect(res.body.workerId).toBe(res.body.output.worker);
      expect(em.supervisor.alive(id)).toEqual([]);
    },
    30_000,
  );

  test("a worker that stops calling is detached and its job goes back to the queue", async () => {
    const id = await endpoint("myorg/custom:2");
    const proc = await attachWorker(id);
    const job = await rest("POST", `/v2/${id}/run`, { input: { mode: "sleep", value: 60_000 } });
    await until(() => em.store.jobs.get(job.body.id)?.status === "IN_PROGRESS", 10_000, "the job to start");
    proc.kill("SIGKILL");
    await until(() => em.store.jobs.get(job.body.id)?.status === "IN_QUEUE", 10_000, "the job to be requeued");
    expect([...em.supervisor.attached.values()].filter((a) => a.endpointId === id)).toEqual([]);
  }, 30_000);

  test("a worker id of one endpoint cannot act for another; a wrong key gets 401", async () => {
    const a = await endpoint("myorg/custom:3");
    const b = await endpoint("myorg/custom:4");
    const keyOf = (id: string) => em.control.endpoints.get(id)!.aiKey;
    const take = (ep: string, key: string) =>
      fetch(`${em.endpointBaseUrl}/${ep}/job-take/worker-x?gpu=cpu&job_in_progress=0`, {
        headers: { authorization: key },
      });
    expect((await take(a, keyOf(a))).status).toBe(204);
    const other = await take(b, keyOf(b));
    expect(other.status).toBe(400);
    expect(await other.json()).toEqual({ error: "worker worker-x belongs to another endpoint" });
    expect((await take(b, keyOf(a))).status).toBe(401);
  }, 15_000);
});

describe("streams (job-stream and /stream)", () => {
  test("job-stream takes {output} chunks of a running job; /stream hands each out once, then the final status", async () => {
    const id = await endpoint("myorg/nothing-runs:1");
    const key = em.control.endpoints.get(id)!.aiKey;
    const worker = (path: string, body?: string) =>
      fetch(`${em.endpointBaseUrl}/${id}/${path}`, {
        method: body === undefined ? "GET" : "POST",
        // runpod-python rp_http.py `_transmit`: the JSON text with a form content type.
        headers: { authorization: key, "content-type": "application/x-www-form-urlencoded" },
        body,
      });
    const job = await rest("POST", `/v2/${id}/run`, { input: { n: 2 } });
    const taken = await worker("job-take/worker-s?gpu=cpu&job_in_progress=0");
    expect(((await taken.json()) as { id: string }).id).toBe(job.body.id);
    const chunk = (body: string) => worker(`job-stream/worker-s/${job.body.id}?gpu=cpu&isStream=false`, body);
    expect((await chunk("not json")).status).toBe(400);
    const noOutput = await chunk(JSON.stringify({ chunk: 1 }));
    expect(noOutput.status).toBe(400);
    expect(await noOutput.json()).toEqual({ error: 'job-stream body must be a JSON object {"output": <chunk>}' });
    expect((await chunk(JSON.stringify([1]))).status).toBe(400);
    expect((await chunk(JSON.stringify({ output: { i: 1 } }))).status).toBe(200);
    expect((await chunk(JSON.stringify({ output: "two" }))).status).toBe(200);
    const first = await rest("GET", `/v2/${id}/stream/${job.body.id}`);
    expect(first.body).toEqual({ status: "IN_PROGRESS", stream: [{ output: { i: 1 } }, { output: "two" }] });
    expect((await chunk(JSON.stringify({ output: 3 }))).status).toBe(200);
    const done = await worker(
      `job-done/worker-s/${job.body.id}?gpu=cpu&isStream=true`,
      JSON.stringify({ output: { chunks: 3 } }),
    );
    expect(done.status).toBe(200);
    // Chunks posted before job-done are still read after it; then an empty stream with the final status.
    expect((await rest("POST", `/v2/${id}/stream/${job.body.id}`)).body).toEqual({
      status: "COMPLETED",
      stream: [{ output: 3 }],
    });
    expect((await rest("GET", `/v2/${id}/stream/${job.body.id}`)).body).toEqual({ status: "COMPLETED", stream: [] });
    // A finished job takes no more chunks.
    expect((await chunk(JSON.stringify({ output: 4 }))).status).toBe(404);
  }, 30_000);
});

describe("what the emulator starts", () => {
  test("an image mapped to a command runs it; a modelled image runs its template's start command; others nothing", async () => {
    const mapped = await endpoint("myorg/mapped:7");
    // oven/bun has bun on its PATH: the start command runs the protocol worker with it, inside its own root.
    const started = await endpoint("oven/bun:1.4.5", {
      dockerArgs: `sh -c 'pwd > "$FLASH_CONTAINER_ROOT/tmp/cwd"; exec bun --no-install ${PROTOCOL_WORKER}'`,
    });
    // runpod/pytorch's own command (/start.sh: ssh, Jupyter) is not modelled; an unknown image is not either.
    const pytorch = await endpoint("runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404");
    const other = await endpoint("myorg/other:1", { env: { FLASH_WORKER_MODE: "queue" } });
    const jobs = await Promise.all(
      [mapped, started, pytorch, other].map((id) =>
        rest("POST", `/v2/${id}/run`, { input: { mode: "echo", value: id } }),
      ),
    );
    expect((await finished(mapped, jobs[0]!.body.id)).output.echo).toBe(mapped);
    expect((await finished(started, jobs[1]!.body.id)).output.echo).toBe(started);
    const w = em.supervisor.alive(started)[0]!;
    // The image's WORKDIR, under the container's root.
    expect(readFileSync(join(w.root!, "tmp", "cwd"), "utf8").trim()).toBe(join(w.root!, "home/bun/app"));
    for (const id of [pytorch, other]) {
      expect(em.supervisor.alive(id)).toEqual([]);
      expect((await rest("GET", `/emulator/endpoints/${id}/worker-env`)).body.launch).toBe("external");
    }
    expect((await rest("GET", `/v2/${other}/status/${jobs[3]!.body.id}`)).body.status).toBe("IN_QUEUE");
  }, 30_000);

  test("flash's start commands run as in the container: Bun from the image, or installed from the served release", async () => {
    // The bootstrap is the protocol worker itself here; the start command and installer are the ones flash sends.
    const js = new Bun.Transpiler({ loader: "ts" }).transformSync(readFileSync(PROTOCOL_WORKER, "utf8"));
    const program = Buffer.from(`// runpod-python's protocol, as a plain JS bootstrap\n${js}`).toString("base64");
    const emulator = startEmulator({ apiKey: KEY, takeHoldMs: 500 });
    const save = async (image: string, env: Record<string, string>) => {
      return saveEndpoint(emulator.apiBaseUrl, KEY, {
        name: `boot-${image.split("/")[0]}`,
        template: {
          name: `boot-${image.split("/")[0]}-tpl`,
          imageName: image,
          containerDiskInGb: 10,
          dockerArgs: BOOTSTRAP_START,
          env: Object.entries({ FLASH_WORKER_MODE: "queue", FLASH_BOOTSTRAP: program, ...env }).map(([key, value]) => ({
            key,
            value,
          })),
        },
        instanceIds: ["cpu3c-2-4"],
        workersMax: 1,
      });
    };
    try {
      const cpu = await save("oven/bun:1.4.5", {});
      const gpu = await save(DEFAULT_GPU_IMAGE, { FLASH_INSTALL_BUN: installBunPython() });
      for (const id of [cpu, gpu]) {
        const res = await fetch(`${emulator.endpointBaseUrl}/${id}/runsync`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ input: { mode: "echo", value: "booted" } }),
        });
        expect(await res.json()).toMatchObject({ status: "COMPLETED", output: { echo: "booted" } });
      }
      const [c, g] = [emulator.supervisor.alive(cpu)[0]!, emulator.supervisor.alive(gpu)[0]!];
      // The bootstrap went to the container's own /tmp, not the host's.
      const boot = (w: typeof c) => readdirSync(join(w.root!, "tmp")).filter((f) => f.startsWith("flash-bootstrap-"));
      expect(boot(c)).toHaveLength(1);
      expect(readFileSync(join(c.root!, "tmp", boot(c)[0]!), "utf8")).toContain("runpod-python");
      expect(existsSync(join("/tmp", boot(c)[0]!))).toBe(false);
      // oven/bun has Bun: nothing installed. The GPU image has none: the installer fetched the release, checked it
      // against SHASUMS256.txt and put it in /usr/local/bin.
      expect(existsSync(join(c.root!, "usr/local/bin/bun"))).toBe(false);
      expect(statSync(join(g.root!, "usr/local/bin/bun")).size).toBe(statSync(process.execPath).size);
    } finally {
      await emulator.stop();
    }
  }, 60_000);

  test("a Bun release that does not match its SHASUMS256.txt is refused: no bun is installed", async () => {
    // The installer, run as the container would, against a release server whose zip is not the one its sums name.
    const root = mkdtempSync(join(tmpdir(), "flash-bun-sum-"));
    const good = await fetch(`${em.url}/_emulator/bun-releases/bun-v${Bun.version}/SHASUMS256.txt`);
    expect(good.status).toBe(200);
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) =>
        new URL(req.url).pathname.endsWith(".zip")
          ? fetch(`${em.url}/_emulator/bun-releases/bun-v${Bun.version}/bun-linux-x64-baseline.zip`).then(
              async (r) => new Response(new Uint8Array([...(await r.bytes()).subarray(0, 1000), 1, 2, 3])),
            )
          : new Response(await good.clone().text()),
    });
    try {
      // Not spawnSync: this process serves the release to it.
      const run = Bun.spawn(["python3", "-c", installBunPython()], {
        env: {
          PATH: process.env.PATH ?? "",
          FLASH_CONTAINER_ROOT: root,
          FLASH_BUN_RELEASES_URL: `http://127.0.0.1:${server.port}`,
        },
        stderr: "pipe",
      });
      expect(await run.exited).not.toBe(0);
      expect(await new Response(run.stderr).text()).toContain("is not the one in SHASUMS256.txt");
      expect(existsSync(join(root, "usr/local/bin/bun"))).toBe(false);
    } finally {
      server.stop(true);
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  test("with a network volume, the installer keeps the checked Bun on it and later cold starts copy it from there", async () => {
    // Two containers (their own roots) with one volume: the first downloads, checks and keeps Bun; the second does
    // not download at all. The release is the emulator's, behind a server that counts the downloads.
    const tmp = mkdtempSync(join(tmpdir(), "flash-bun-volume-"));
    const volume = join(tmp, "volume");
    mkdirSync(volume);
    let downloads = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        if (path.endsWith(".zip")) downloads++;
        return fetch(`${em.url}/_emulator/bun-releases${path}`);
      },
    });
    const install = async (name: string) => {
      const root = join(tmp, name);
      mkdirSync(root);
      symlinkSync(volume, join(root, "runpod-volume"));
      // Not spawnSync: this process serves the release to it.
      const run = Bun.spawn(["python3", "-c", installBunPython()], {
        env: {
          PATH: process.env.PATH ?? "",
          FLASH_CONTAINER_ROOT: root,
          FLASH_BUN_RELEASES_URL: `http://127.0.0.1:${server.port}`,
        },
        stderr: "pipe",
      });
      const [code, err] = await Promise.all([run.exited, new Response(run.stderr).text()]);
      return { code, err, size: statSync(join(root, "usr/local/bin/bun")).size };
    };
    try {
      const first = await install("first");
      expect(first).toMatchObject({ code: 0, size: statSync(process.execPath).size });
      expect(first.err).toContain("downloaded and checked, kept on the network volume");
      expect(downloads).toBe(1);
      const kept = readdirSync(join(volume, ".cache/flash-worker/bin"));
      expect(kept).toEqual([`bun-v${WORKER_BUN_VERSION}`]); // no temp file left beside it
      const second = await install("second");
      expect(second).toMatchObject({ code: 0, size: statSync(process.execPath).size });
      expect(second.err).toContain("copied from the network volume");
      expect(downloads).toBe(1);
    } finally {
      server.stop(true);
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);

  test("cancel and execution timeout reach a worker through job-stop; it is not killed", async () => {
    const id = await endpoint("myorg/mapped:7", { workersMin: 1 });
    await until(() => em.supervisor.alive(id).some((w) => w.stopChannel), 10_000, "a worker polling job-stop");
    const worker = em.supervisor.alive(id)[0]!;
    const job = await rest("POST", `/v2/${id}/run`, { input: { mode: "sleep", value: 30_000 } });
    await until(() => em.store.jobs.get(job.body.id)?.status === "IN_PROGRESS", 10_000, "the job to start");
    expect((await rest("POST", `/v2/${id}/cancel/${job.body.id}`)).body).toEqual({
      id: job.body.id,
      status: "CANCELLED",
    });
    const log = join(tmp, "stops.log");
    const stopped = (jobId: string) => existsSync(log) && readFileSync(log, "utf8").includes(jobId);
    await until(() => stopped(job.body.id), 10_000, "the worker to get the stop signal");
    const timed = await rest("POST", `/v2/${id}/run`, {
      input: { mode: "sleep", value: 30_000 },
      policy: { executionTimeout: 300 },
    });
    const out = await finished(id, timed.body.id);
    expect(out.status).toBe("TIMED_OUT");
    await until(() => stopped(timed.body.id), 10_000, "the timeout's stop signal");
    await Bun.sleep(300);
    expect(worker.proc.exitCode).toBeNull();
    expect(worker.proc.signalCode).toBeNull();
    expect(worker.state).not.toBe("stopping");
    expect(em.supervisor.workers.get(worker.id)).toBe(worker);
  }, 40_000);

  test("a worker still busy with a timed-out job after the stop signal is stopped by the platform", async () => {
    const emulator = startEmulator({
      apiKey: KEY,
      takeHoldMs: 300,
      workers: {
        images: { "myorg/stubborn:1": [process.execPath, PROTOCOL_WORKER] },
        env: { STUBBORN: "1" },
        stopGraceMs: 150,
      },
    });
    try {
      const id = await saveEndpoint(emulator.apiBaseUrl, KEY, {
        name: "stubborn",
        template: { name: "stubborn-tpl", imageName: "myorg/stubborn:1", containerDiskInGb: 10, env: [] },
        instanceIds: ["cpu3c-2-4"],
        workersMin: 1,
      });
      await until(() => emulator.supervisor.alive(id).some((w) => w.stopChannel), 10_000, "a worker on job-stop");
      const worker = emulator.supervisor.alive(id)[0]!;
      const job = emulator.store.submit(
        id,
        { input: { mode: "sleep", value: 60_000 }, policy: { executionTimeout: 200 } },
        false,
      );
      await until(() => job.status === "TIMED_OUT", 10_000, "the execution timeout");
      await until(() => worker.proc.signalCode !== null, 10_000, "the busy worker to be killed after the grace period");
      expect(worker.proc.signalCode).toBe("SIGKILL");
    } finally {
      await emulator.stop();
    }
  }, 30_000);

  test("a FAILED job shows its error and no output", async () => {
    const id = await endpoint("myorg/mapped:7");
    const res = await rest("POST", `/v2/${id}/runsync`, { input: { mode: "fail-with-output", value: "boom" } });
    expect(res.body.status).toBe("FAILED");
    expect(res.body.error).toBe("boom");
    expect("output" in res.body).toBe(false);
    expect(Object.keys(res.body).sort()).toEqual(["delayTime", "error", "executionTime", "id", "status", "workerId"]);
  }, 20_000);
});

describe("load-balanced workers", () => {
  test("PORT comes only from the template (mapped to a host port); LB workers get no job webhooks", async () => {
    // A warm worker (workersMin 1), ready before the first request: no request waits for a cold start here.
    const id = await endpoint("myorg/lb:1", { type: "LB", workersMin: 1 });
    await until(() => em.supervisor.alive(id)[0]?.state === "idle", 10_000, "a ready LB worker");
    const res = await fetch(`${em.url}/lb/${id}/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: "hi",
    });
    const seen = (await res.json()) as any;
    expect(seen.body).toBe("hi");
    const worker = em.supervisor.alive(id)[0]!;
    expect(seen.port).toBe(String(worker.port));
    expect(seen.port).not.toBe("80");
    expect(seen.portHealth).toBe(seen.port);
    expect(seen.webhook).toBeNull();
    expect(seen.podId).toBe(worker.id);

    // A full-replace template update without PORT (what flash once did): new workers get no PORT and
    // no request can reach them.
    const tplId = em.control.endpoints.get(id)!.templateId;
    await gql("mutation t($input: SaveTemplateInput) { saveTemplate(input: $input) { id } }", {
      input: {
        id: tplId,
        name: em.control.templates.get(tplId)!.name,
        imageName: "myorg/lb:1",
        containerDiskInGb: 10,
        volumeInGb: 0,
        env: [],
      },
    });
    await until(() => !em.supervisor.workers.has(worker.id), 10_000, "the old version's worker to be replaced");
    const after = await fetch(`${em.url}/lb/${id}/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(after.status).toBe(503);
    expect(await after.json()).toEqual({ error: "no workers available" });
  }, 30_000);
});

describe("load-balanced routing", () => {
  test("one worker takes up to scalerValue concurrent requests before another starts (REQUEST_COUNT)", async () => {
    const id = await endpoint("myorg/lb:1", { type: "LB", workersMin: 1 });
    await until(() => em.supervisor.alive(id)[0]?.state === "idle", 10_000, "a ready LB worker");
    // /hold answers once the test releases its gate on the worker: requests stay in flight for as long as needed.
    const hold = (gate: string) =>
      fetch(`${em.url}/lb/${id}/hold?gate=${gate}`, { headers: { authorization: `Bearer ${KEY}` } }).then(
        async (r) => ((await r.json()) as { podId: string }).podId,
      );
    const release = (gate: string) =>
      Promise.all(
        em.supervisor
          .alive(id)
          .filter((w) => w.inflight > 0)
          .map((w) => fetch(`http://127.0.0.1:${w.port}/release?gate=${gate}`, { method: "POST" })),
      );
    const inflight = () => em.supervisor.alive(id).reduce((n, w) => n + w.inflight, 0);
    const first = hold("cold");
    await until(() => inflight() === 1, 10_000, "the first worker to take a request");
    await release("cold");
    const pod = await first;
    const three = Promise.all([hold("three"), hold("three"), hold("three")]);
    await until(() => inflight() === 3, 10_000, "three requests in flight");
    expect(em.supervisor.alive(id).map((w) => [w.id, w.inflight])).toEqual([[pod, 3]]);
    await release("three");
    expect(new Set(await three)).toEqual(new Set([pod]));
    // Five at once: four fit on the first worker, the fifth makes the scaler start a second one.
    const five = Promise.all([1, 2, 3, 4, 5].map(() => hold("five")));
    await until(() => em.supervisor.alive(id).length === 2, 10_000, "a second worker for the fifth request");
    await until(() => inflight() === 5, 10_000, "five requests in flight");
    await release("five");
    expect((await five).length).toBe(5);
  }, 30_000);
});

describe("platform conditions", () => {
  test("a worker that dies at start counts as unhealthy; throttled endpoints start nothing", async () => {
    const id = await endpoint("myorg/crash:1", { workersMin: 1 });
    let health: any;
    await until(
      () => {
        void rest("GET", `/v2/${id}/health`).then((r) => (health = r.body));
        return health?.workers.unhealthy >= 1;
      },
      10_000,
      "an unhealthy worker in /health",
    );
    const t = await endpoint("myorg/mapped:7");
    em.supervisor.throttle(t, 2);
    await rest("POST", `/v2/${t}/run`, { input: { mode: "echo", value: 1 } });
    await Bun.sleep(100); // four scaler ticks: none starts a worker
    expect(em.supervisor.alive(t)).toEqual([]);
    expect((await rest("GET", `/v2/${t}/health`)).body.workers).toMatchObject({ throttled: 2, idle: 0 });
    em.supervisor.throttle(t, 0);
  }, 20_000);

  test("a cold start delays the first worker, and the job's delayTime shows it", async () => {
    const emulator = startEmulator({
      apiKey: KEY,
      takeHoldMs: 500,
      workers: { images: { "myorg/cold:1": [process.execPath, PROTOCOL_WORKER] }, coldStartMs: 400 },
    });
    try {
      const id = await saveEndpoint(emulator.apiBaseUrl, KEY, {
        name: "cold",
        template: { name: "cold-tpl", imageName: "myorg/cold:1", containerDiskInGb: 10, env: [] },
        instanceIds: ["cpu3c-2-4"],
      });
      const call = fetch(`${emulator.endpointBaseUrl}/${id}/runsync`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ input: { mode: "echo", value: "cold" } }),
      });
      await until(() => emulator.supervisor.counts(id).initializing === 1, 10_000, "the cold start");
      expect(emulator.supervisor.alive(id)).toEqual([]);
      const job = (await (await call).json()) as any;
      expect(job.status).toBe("COMPLETED");
      expect(job.delayTime).toBeGreaterThanOrEqual(400);
    } finally {
      await emulator.stop();
    }
  }, 30_000);

  test("payloads over Runpod's limits get 413: /run 10 MB, /runsync 20 MB, LB 30 MB", async () => {
    const id = await endpoint("myorg/custom:9");
    const big = (bytes: number) => JSON.stringify({ input: { pad: "x".repeat(bytes) } });
    const run = await rest("POST", `/v2/${id}/run`, big(10_000_000));
    expect(run.status).toBe(413);
    expect(run.body.error).toMatch(/^payload too large: \d+ bytes exceeds the 10 MB limit of \/run$/);
    const fits = await rest("POST", `/v2/${id}/run`, big(9_000_000));
    expect(fits.body.status).toBe("IN_QUEUE");
    expect((await rest("POST", `/v2/${id}/runsync?wait=50`, big(15_000_000))).body.status).toBe("IN_QUEUE");
    const sync = await rest("POST", `/v2/${id}/runsync`, big(20_000_000));
    expect(sync.status).toBe(413);
    expect(sync.body.error).toContain("the 20 MB limit of /runsync");
    const lb = await fetch(`${em.url}/lb/${id}/x`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: "y".repeat(30_000_001),
    });
    expect(lb.status).toBe(413);
    await rest("POST", `/v2/${id}/purge-queue`, {});
  }, 30_000);
});
