/**
 * How a call behaves on Runpod, client and worker side, against the strict emulator: a user with only an API key
 * (default public images + bootstrap), code that travels once per content hash with a retry on a worker's miss,
 * payload limits, waits that explain themselves and end, the execution timeout counted from IN_PROGRESS, cancel
 * that stops the function on the worker, and custom images that get raw input.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  CpuLiveLoadBalancer,
  CpuLiveServerless,
  CpuServerlessEndpoint,
  LiveServerless,
} from "../../core/remote/config";
import { GpuGroup } from "../../core/remote/enums";
import type { RemoteFunctionRef } from "../../core/remote/protocol";
import { GraphqlError, RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";
import { BOOTSTRAP_START, DEFAULT_CPU_IMAGE } from "../../core/runpod/mapping";
import { workerProgram } from "../../core/runpod/worker-program";
import { FAKE_KEY, startHarness, until, type Harness } from "../fixtures/runpod/harness";

let h: Harness;
const programSize = (p: { files: Record<string, string> }) => Object.values(p.files).reduce((n, c) => n + c.length, 0);
const PROTOCOL_WORKER = resolve(import.meta.dir, "../fixtures/runpod/protocol-worker.ts");

beforeAll(() => {
  h = startHarness({
    workers: {
      images: {
        "me/handler:1": [process.execPath, PROTOCOL_WORKER],
        "me/crashes:1": ["sh", "-c", "echo 'exec format error' >&2; exit 1"],
      },
      crashBackoffMs: 50,
    },
  });
});
afterAll(async () => {
  await h?.stop();
});

/** A reference to a function of the fixture workspace's cpu_worker.ts on `config`. */
function ref(config: RemoteFunctionRef["config"], name: string): RemoteFunctionRef {
  return {
    config,
    module: join(h.root, "01_demo/01_basic/cpu_worker.ts"),
    name,
    executionType: "function",
    options: {},
  };
}

const call = (fn: RemoteFunctionRef, args: unknown[], signal?: AbortSignal) =>
  h.target.call(fn, { module: fn.module, name: fn.name, executionType: "function", args }, signal);

describe("nothing to build: public image + bootstrap, the worker program arrives with the first call", () => {
  test("the template runs oven/bun with the bootstrap; the second call sends hashes only", async () => {
    const cfg = new CpuLiveServerless({ name: "boot_first", workersMax: 1, idleTimeout: 60 });
    const hello = ref(cfg, "hello");
    const before = h.target.bytesSent;
    const first = await call(hello, [{ name: "ada" }]);
    expect(first).toMatchObject({ success: true, result: { message: "HELLO ADA!" } });
    const firstBytes = h.target.bytesSent - before;
    const program = await workerProgram();
    expect(firstBytes).toBeGreaterThan(programSize(program)); // the worker program travelled with it
    const endpoint = [...h.em.control.endpoints.values()].find((e) => e.name === "live-boot_first-fb")!;
    const template = h.em.control.templates.get(endpoint.templateId)!;
    expect(template.imageName).toBe(DEFAULT_CPU_IMAGE);
    expect(template.dockerArgs).toBe(BOOTSTRAP_START);
    const mark = h.target.bytesSent;
    expect(await call(hello, [{ name: "bob" }])).toMatchObject({ success: true, result: { message: "HELLO BOB!" } });
    expect(h.target.bytesSent - mark).toBeLessThan(2000); // bundle and program by hash only
  }, 60_000);

  test("a fresh worker that lacks the code answers `missing`; the call is sent again with it and runs once", async () => {
    const cfg = new CpuLiveServerless({ name: "boot_miss", workersMax: 1, idleTimeout: 60 });
    const hello = ref(cfg, "hello");
    expect((await call(hello, [{ name: "one" }])).success).toBe(true);
    // A new machine: no cache on its disk, a fresh worker process.
    const endpoint = [...h.em.control.endpoints.values()].find((e) => e.name === "live-boot_miss-fb")!;
    rmSync(join(h.tmp, "cache"), { recursive: true, force: true });
    for (const w of h.em.supervisor.workers.values()) if (w.endpointId === endpoint.id) w.proc.kill("SIGKILL");
    const mark = h.target.bytesSent;
    const jobsBefore = h.em.store.jobCounts(endpoint.id).completed;
    expect(await call(hello, [{ name: "two" }])).toMatchObject({ success: true, result: { message: "HELLO TWO!" } });
    expect(h.target.bytesSent - mark).toBeGreaterThan(programSize(await workerProgram()));
    // Two jobs completed: the miss (nothing ran) and the call itself.
    expect(h.em.store.jobCounts(endpoint.id).completed - jobsBefore).toBe(2);
  }, 60_000);
});

describe("a worker waiting for its program", () => {
  test("sends heartbeats before any job, as runpod-python pings from the moment a worker starts", async () => {
    rmSync(join(h.tmp, "cache"), { recursive: true, force: true }); // no worker program on this disk yet
    const cfg = new CpuLiveServerless({ name: "boot_ping", workersMin: 1, workersMax: 1, idleTimeout: 60 });
    const { endpointId } = await h.target.provisioner.ensure(cfg);
    const worker = () => [...h.em.supervisor.workers.values()].find((w) => w.endpointId === endpointId);
    await until(() => (worker()?.lastPing ?? 0) > 0, 30_000, "a heartbeat from the bootstrap");
    expect(h.em.store.jobCounts(endpointId).completed).toBe(0);
    expect(existsSync(join(h.tmp, "cache", "program"))).toBe(false); // it is still the bootstrap that pinged
  }, 60_000);
});

describe("payload limits", () => {
  test("a call over Runpod's /run or /runsync limit fails before it is sent, and says what to do", async () => {
    const cfg = new CpuLiveServerless({ name: "big_args", workersMax: 1 });
    const hello = ref(cfg, "hello");
    const big = "x".repeat(21 * 1024 * 1024);
    const res = await call(hello, [{ name: big }]);
    expect(res.success).toBe(false);
    expect(res.error?.name).toBe("PayloadTooLargeError");
    expect(res.error?.message).toContain("over Runpod's 20 MB limit");
    expect(res.error?.message).toContain("by reference");
    const polled = await call(hello, [{ name: "x".repeat(11 * 1024 * 1024) }], new AbortController().signal);
    expect(polled.error?.message).toContain("over Runpod's 10 MB limit");
    const endpoint = [...h.em.control.endpoints.values()].find((e) => e.name === "live-big_args-fb")!;
    expect(h.em.store.jobCounts(endpoint.id).inQueue + h.em.store.jobCounts(endpoint.id).completed).toBe(0);
  }, 60_000);
});

describe("calls that explain themselves", () => {
  test("a throttled endpoint: the wait says why and ends with the reason", async () => {
    const t = h.newTarget({ wait: { explainAfterMs: 50, queueTimeoutMs: 700 } });
    const cfg = new CpuLiveServerless({ name: "throttled", workersMax: 1 });
    const { endpointId } = await t.provisioner.ensure(cfg);
    h.em.supervisor.throttle(endpointId, 1);
    const fn = ref(cfg, "hello");
    const res = await t.call(
      fn,
      { module: fn.module, name: "hello", executionType: "function", args: [{}] },
      new AbortController().signal,
    );
    expect(res.success).toBe(false);
    expect(res.error?.name).toBe("QueueTimeoutError");
    expect(res.error?.message).toContain("throttled");
    expect(h.em.store.jobCounts(endpointId).inQueue).toBe(0); // the job was cancelled, not left queued
    h.em.supervisor.throttle(endpointId, 0);
    await t.shutdown();
  }, 30_000);

  test("a throttled GPU endpoint's wait says what Runpod's catalog lists for its pools' stock", async () => {
    const t = h.newTarget({ wait: { explainAfterMs: 50, queueTimeoutMs: 1500 } });
    const cfg = new LiveServerless({ name: "throttled_gpu", gpus: [GpuGroup.ADA_24], workersMax: 1 });
    const { endpointId } = await t.provisioner.ensure(cfg);
    h.em.supervisor.throttle(endpointId, 1);
    const fn = ref(cfg, "hello");
    const res = await t.call(
      fn,
      { module: fn.module, name: "hello", executionType: "function", args: [{}] },
      new AbortController().signal,
    );
    expect(res.error?.message).toContain(
      "workers are throttled: no machine of the requested type is free in the allowed data centers right now " +
        "(allow more GPU types or data centers, or wait); Runpod's catalog lists serverless stock ADA_24 HIGH",
    );
    h.em.supervisor.throttle(endpointId, 0);
    await t.shutdown();
  }, 30_000);

  test("an image that crashes at start: the call fails with 'unhealthy' instead of waiting 24 h", async () => {
    const t = h.newTarget({ wait: { explainAfterMs: 50, unhealthyMs: 300, queueTimeoutMs: 20_000 } });
    const cfg = new CpuServerlessEndpoint({ name: "crashes", imageName: "me/crashes:1", workersMax: 1 });
    const fn = ref(cfg, "handler");
    const res = await t.call(
      fn,
      { module: fn.module, name: "handler", executionType: "function", args: [{ go: true }] },
      new AbortController().signal,
    );
    expect(res.success).toBe(false);
    expect(res.error?.message).toContain("unhealthy");
    expect(res.error?.message).toContain("linux/amd64");
    await t.shutdown();
  }, 30_000);

  test("the execution timeout counts from IN_PROGRESS, not from submission (a cold start does not eat it)", async () => {
    // Cold start 1.6 s > execution timeout 1.2 s + grace 0.2 s: a clock started at submission would give up. The
    // call itself runs in about 0.2 s once a worker took it.
    const cold = startHarness({ workers: { coldStartMs: 1600 } });
    try {
      const t = cold.newTarget({ wait: { executionGraceMs: 200 } });
      const cfg = new CpuLiveServerless({ name: "cold", workersMax: 1, executionTimeoutMs: 1200 });
      const fn = { ...ref(cfg, "hello"), module: join(cold.root, "01_demo/01_basic/cpu_worker.ts") };
      const res = await t.call(
        fn,
        { module: fn.module, name: "hello", executionType: "function", args: [{ name: "cold" }] },
        new AbortController().signal,
      );
      expect(res).toMatchObject({ success: true, result: { message: "HELLO COLD!" } });
      await t.shutdown();
    } finally {
      await cold.stop();
    }
  }, 60_000);
});

describe("cancel stops the function on the worker", () => {
  test("a caller that gives up: the job is CANCELLED and the worker running it stops (through job-stop)", async () => {
    const cfg = new CpuLiveServerless({ name: "stoppable", workersMax: 1, idleTimeout: 60 });
    const nap = ref(cfg, "nap");
    const ac = new AbortController();
    const pending = call(nap, [20_000], ac.signal);
    let jobWorker: string | undefined;
    await until(
      () => {
        const job = [...h.em.store.jobs.values()].find(
          (j) => j.status === "IN_PROGRESS" && (j.input as any)?.request?.name === "nap",
        );
        jobWorker = job?.workerId;
        return !!jobWorker;
      },
      30_000,
      "nap to start",
    );
    const proc = h.em.supervisor.workers.get(jobWorker!)!.proc;
    ac.abort();
    const res = await pending;
    expect(res.success).toBe(false);
    await Promise.race([proc.exited, Bun.sleep(10_000)]);
    expect(proc.exitCode !== null || proc.signalCode !== null).toBe(true); // the function no longer runs
  }, 60_000);
});

describe("custom images get the raw input", () => {
  test("CpuServerlessEndpoint: the user's handler gets args[0] as `input` and its output is the result", async () => {
    const cfg = new CpuServerlessEndpoint({ name: "own_handler", imageName: "me/handler:1", workersMax: 1 });
    const fn = ref(cfg, "handler");
    const res = await call(fn, [{ mode: "echo", value: 42 }]);
    expect(res.success).toBe(true);
    expect((res.result as { echo: number }).echo).toBe(42);
  }, 30_000);

  test("empty or null input is refused before it is sent (Runpod never dispatches it)", async () => {
    const cfg = new CpuServerlessEndpoint({ name: "own_handler", imageName: "me/handler:1", workersMax: 1 });
    const fn = ref(cfg, "handler");
    const jobs = h.em.store.jobs.size;
    for (const args of [[], [null], [{}]]) {
      const res = await call(fn, args);
      expect(res.success).toBe(false);
      expect(res.error).toMatchObject({ name: "InputError", status: 400 });
      expect(res.error?.message).toStartWith("Empty or null input.");
    }
    expect(h.em.store.jobs.size).toBe(jobs);
  }, 30_000);
});

describe("nothing runs twice", () => {
  test("a 503 on a job submission is not sent again (the job may exist); a 429 is (it was refused)", async () => {
    const cfg = new CpuLiveServerless({ name: "no_dupes", workersMax: 1, idleTimeout: 60 });
    const hello = ref(cfg, "hello");
    expect((await call(hello, [{ name: "warm" }])).success).toBe(true);
    const endpoint = [...h.em.control.endpoints.values()].find((e) => e.name === "live-no_dupes-fb")!;
    const before = h.em.store.jobCounts(endpoint.id).completed;
    h.em.fail({ status: 503, times: 1, path: `/v2/${endpoint.id}/run` });
    const res = await call(hello, [{ name: "once" }]);
    expect(res.success).toBe(false);
    expect(res.error?.message).toContain("503");
    h.em.fail({ status: 429, times: 1, path: `/v2/${endpoint.id}/run` });
    expect((await call(hello, [{ name: "again" }])).success).toBe(true);
    expect(h.em.store.jobCounts(endpoint.id).completed - before).toBe(1);
  }, 60_000);

  test("a load-balanced endpoint's cold start ('no workers available') is waited out, then the call runs", async () => {
    const cold = startHarness({ workers: { coldStartMs: 600, lbWaitMs: 100 } });
    try {
      const t = cold.newTarget({ wait: { lbRetryDelayMs: 100, lbColdStartMs: 30_000 } });
      const cfg = new CpuLiveLoadBalancer({ name: "lb_cold", workersMax: 1 });
      const fn: RemoteFunctionRef = {
        config: cfg,
        module: join(cold.root, "01_demo/01_basic/compute_lb.ts"),
        name: "compute",
        executionType: "function",
        options: { method: "POST", path: "/compute" },
      };
      const res = await t.call(fn, {
        module: fn.module,
        name: "compute",
        executionType: "function",
        args: [[1, 2, 3]],
      });
      expect(res).toMatchObject({ success: true, result: { sum: 6, count: 3 } });
      await t.shutdown();
    } finally {
      await cold.stop();
    }
  }, 60_000);
});

describe("control plane replies", () => {
  test("GraphQL errors that come with HTTP 400 are GraphQL errors, with their message", async () => {
    const gql = new RunpodGraphql(new RunpodHttp(FAKE_KEY), h.em.apiBaseUrl);
    const err = await gql.request("query { myself { nope } }").catch((e: Error) => e);
    expect(err).toBeInstanceOf(GraphqlError);
    expect((err as GraphqlError).status).toBe(400);
    expect((err as Error).message).toContain("nope");
  });
});

describe("the Dockerfiles", () => {
  const dockerfile = (name: string) => readFileSync(resolve(import.meta.dir, "../../worker", name), "utf8");
  test("every documented build and every stage is linux/amd64; no FLASH_WORKER_CACHE hides the volume", () => {
    for (const name of ["Dockerfile.cpu", "Dockerfile.gpu"]) {
      const text = dockerfile(name);
      for (const line of text.split("\n").filter((l) => /docker build /.test(l))) {
        expect(line).toContain("--platform linux/amd64");
      }
      for (const line of text.split("\n").filter((l) => /^FROM /.test(l)))
        expect(line).toContain("--platform=linux/amd64");
      expect(text).not.toContain("ENV FLASH_WORKER_CACHE");
    }
    expect(readFileSync(resolve(import.meta.dir, "../../worker/README.md"), "utf8")).toContain(
      "--platform linux/amd64",
    );
  });
});
