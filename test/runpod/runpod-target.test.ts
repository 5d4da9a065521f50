/**
 * The Runpod target end to end, offline: route → remote() → Runpod client → emulator → worker-program
 * subprocess → result back over HTTP; plus errors, a killed worker, 429/503 retries, cancel, a bad key, and
 * a known fake key that must appear in no log line, error or response.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConsolaReporter } from "consola";
import { buildApp } from "../../core/app/app";
import { log } from "../../core/base/log";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";
import { startServer, type FlashServer } from "../../core/dev/server";
import { RemoteError } from "../../core/remote/errors";
import { FAKE_KEY, startHarness, until, type Harness } from "../fixtures/runpod/harness";

let h: Harness;
let server: FlashServer;
let mod: Record<string, any>;
const lines: string[] = [];
const capture: ConsolaReporter = {
  log: (entry) =>
    lines.push(
      [entry.tag, ...entry.args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a)))].join(" "),
    ),
};
let savedReporters: ConsolaReporter[];
let savedLevel: number;

beforeAll(async () => {
  savedReporters = [...log.options.reporters];
  savedLevel = log.level;
  log.setReporters([capture]);
  log.level = 5; // debug and trace too: worker output is forwarded at debug level
  h = startHarness();
  setTarget(h.target);
  mod = await import(join(h.root, "01_demo/01_basic/cpu_worker.ts"));
  const app = await buildApp({ root: h.root });
  server = startServer(app, "127.0.0.1", 0);
});

afterAll(async () => {
  await server?.stop();
  setTarget(new LocalTarget()); // other test files in this process expect the default target back
  await h?.stop();
  log.setReporters(savedReporters);
  log.level = savedLevel;
});

describe("runpod target against the emulator", () => {
  test("a route's remote call runs in a worker subprocess and comes back over HTTP", async () => {
    const res = await fetch(`${server.url}/01_demo/01_basic/cpu/hello`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "ada" }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.message).toBe("HELLO ADA!");
    expect(body.pid).not.toBe(process.pid);
    expect(h.em.supervisor.workers.has(body.worker)).toBe(true);
    const [endpoint] = [...h.em.control.endpoints.values()];
    expect(endpoint!.name).toBe("live-01_01_basic_cpu-fb");
    expect(h.em.store.jobCounts(endpoint!.id).completed).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.includes("hello: hello called for ada"))).toBe(true); // the worker's output, shown here
  });

  test("a thrown error reaches the caller with the remote message and stack; the route answers 500", async () => {
    const err = (await mod.explode("bad input").catch((e: unknown) => e)) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.message).toBe("boom: bad input");
    expect(err.remoteName).toBe("Error");
    expect(err.remoteStack).toContain("at deeper");
    expect(err.remoteStack).toMatch(/01_demo\/01_basic\/cpu_worker\.ts:17:/); // original file and line via the shipped source map
    const res = await fetch(`${server.url}/01_demo/01_basic/cpu/explode`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ why: "x" }),
    });
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.message).not.toContain("boom"); // the detail is in the log under the request id, not in the body
    expect(body.request_id).toMatch(/^[0-9a-f]{12}$/);
    const failed = [...h.em.store.jobs.values()].find((j) => j.status === "FAILED");
    expect(failed?.error).toContain("boom");
  });

  test("an InputError keeps its name (routes map it to 400)", async () => {
    const err = (await mod.strict(-1).catch((e: unknown) => e)) as RemoteError;
    expect(err.remoteName).toBe("InputError");
    expect(err.message).toBe("n must be >= 0");
    expect(await mod.strict(16)).toBe(4);
  });

  test("npm dependencies are installed by the worker from a local package, once per set", async () => {
    expect(await mod.padded("ab")).toBe("......ab");
    expect(await mod.padded("abcd")).toBe("....abcd");
    const depsDir = join(h.tmp, "cache", "deps");
    expect(existsSync(depsDir)).toBe(true);
  });

  test("an edit reaches the next call without a redeploy", async () => {
    const helpers = join(h.root, "01_demo/01_basic/helpers.ts");
    const before = h.target.provisioner.counts.created + h.target.provisioner.counts.updated;
    writeFileSync(helpers, readFileSync(helpers, "utf8").replace("toUpperCase()}!", "toUpperCase()}?!"));
    expect((await mod.hello({ name: "bo" })).message).toBe("HELLO BO?!");
    expect(h.target.provisioner.counts.created + h.target.provisioner.counts.updated).toBe(before);
  });

  test("load-balanced configs call the route on the endpoint's own URL", async () => {
    const lb = await import(join(h.root, "01_demo/01_basic/compute_lb.ts"));
    expect(await lb.compute([1, 2, 3])).toEqual({ sum: 6, count: 3 });
    const endpoint = [...h.em.control.endpoints.values()].find((e) => e.type === "LB");
    expect(endpoint?.name).toBe("live-01_01_basic_lb-fb");
    // After a shipped call, a plain request to the route works too (what a deployed LB serves).
    const res = await fetch(`${h.em.lbBaseUrl.replace("{id}", endpoint!.id)}/compute`, {
      method: "POST",
      headers: { authorization: `Bearer ${FAKE_KEY}` },
      body: JSON.stringify([4, 5]),
    });
    expect(await res.json()).toEqual({ sum: 9, count: 2 });
  });

  test("a generator on a load-balanced config streams over chunked HTTP (NDJSON), and stops when the reader does", async () => {
    const lb = await import(join(h.root, "01_demo/01_basic/compute_lb.ts"));
    const dir = mkdtempSync(join(tmpdir(), "flash-lb-stream-"));
    try {
      const it = (lb.countdown(3, dir) as AsyncGenerator<number>)[Symbol.asyncIterator]();
      // The last value waits for the gate: the first two crossed the load balancer while the generator ran.
      expect((await it.next()).value).toBe(3);
      expect((await it.next()).value).toBe(2);
      writeFileSync(join(dir, "open"), "");
      expect((await it.next()).value).toBe(1);
      expect((await it.next()).done).toBe(true);
      // A plain request to the route (after the shipped call) streams its values as NDJSON lines.
      const endpoint = [...h.em.control.endpoints.values()].find((e) => e.type === "LB");
      const res = await fetch(`${h.em.lbBaseUrl.replace("{id}", endpoint!.id)}/countdown`, {
        method: "POST",
        headers: { authorization: `Bearer ${FAKE_KEY}` },
        body: JSON.stringify(2),
      });
      expect(res.headers.get("content-type")).toContain("application/x-ndjson");
      expect(await res.text()).toBe("2\n1\n");
      // A reader that stops early: the worker's generator stops writing.
      const file = join(dir, "ticks");
      for await (const n of lb.ticker(file) as AsyncGenerator<number>) if (n >= 2) break;
      // It stops writing: two reads 400 ms apart (eight of its 50 ms ticks) agree; bounded, so a generator that runs
      // on fails the test.
      const end = Date.now() + 30_000;
      for (let last = ""; ; await Bun.sleep(400)) {
        const now = existsSync(file) ? readFileSync(file, "utf8") : "";
        if (now !== "" && now === last) break;
        if (Date.now() > end) throw new Error(`the LB generator kept running (at ${now})`);
        last = now;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("429 and 503 from the platform are retried", async () => {
    h.em.fail({ status: 429, times: 2, path: "/run" });
    h.em.fail({ status: 503, times: 2, path: "/status/" });
    expect((await mod.hello({ name: "retry" })).message).toBe("HELLO RETRY?!");
  });

  test("a worker killed mid-job: the job is requeued to a fresh worker, and the call never hangs", async () => {
    const call = mod.nap(1500);
    let victim: string | undefined;
    await until(
      () => {
        const job = [...h.em.store.jobs.values()].find(
          (j) => j.status === "IN_PROGRESS" && (j.input as any)?.request?.name === "nap",
        );
        victim = job?.workerId;
        return !!victim;
      },
      10_000,
      "nap to start",
    );
    h.em.supervisor.workers.get(victim!)!.proc.kill("SIGKILL");
    const result = await call;
    expect(result.slept).toBe(1500);
    expect(result.worker).not.toBe(victim);
    const job = [...h.em.store.jobs.values()].find((j) => (j.input as any)?.request?.name === "nap");
    expect(job?.requeues).toBe(1);
  }, 20_000);

  test("a caller that gives up cancels the job (and its worker is stopped)", async () => {
    const ref = (mod.nap as any).remote;
    const controller = new AbortController();
    const pending = h.target.call(
      ref,
      { module: ref.module, name: "nap", executionType: "function", args: [10_000] },
      controller.signal,
    );
    let jobId: string | undefined;
    let worker: string | undefined;
    await until(
      () => {
        const job = [...h.em.store.jobs.values()].find(
          (j) => j.status === "IN_PROGRESS" && (j.input as any)?.request?.args?.[0] === 10_000,
        );
        jobId = job?.id;
        worker = job?.workerId;
        return !!job;
      },
      10_000,
      "the long nap to start",
    );
    controller.abort();
    const res = await pending;
    expect(res.success).toBe(false);
    await until(() => h.em.store.jobs.get(jobId!)?.status === "CANCELLED", 5000, "CANCELLED");
    await until(() => !h.em.supervisor.workers.has(worker!), 5000, "the worker to be stopped");
  }, 20_000);

  test("a bad key gets a clear 401 error that does not contain the key", async () => {
    const wrongKey = "rpa_WRONG_KEY_zzzzzzzzzzzzzzzz";
    const bad = h.newTarget({ apiKey: wrongKey });
    const ref = (mod.hello as any).remote;
    const res = await bad.call(ref, {
      module: ref.module,
      name: "hello",
      executionType: "function",
      args: [{ name: "x" }],
    });
    expect(res.success).toBe(false);
    expect(res.error?.message).toContain("401");
    expect(res.error?.message).toContain("RUNPOD_API_KEY");
    expect(res.error?.message).not.toContain(wrongKey);
    const raw = await fetch(`${h.em.endpointBaseUrl}/x/health`, { headers: { authorization: `Bearer ${wrongKey}` } });
    expect(raw.status).toBe(401);
    expect(await raw.text()).not.toContain(wrongKey);
  });

  test("the fake key appears in no log line, error message, response or file", async () => {
    const state = readFileSync(join(h.tmp, "state", "resources.json"), "utf8");
    expect(state).not.toContain(FAKE_KEY);
    expect(lines.length).toBeGreaterThan(5); // the capture did see the session's logs (debug included)
    for (const line of lines) expect(line).not.toContain(FAKE_KEY);
    const health = await (await fetch(`${server.url}/health`)).text();
    expect(health).not.toContain(FAKE_KEY);
    for (const job of h.em.store.jobs.values()) expect(JSON.stringify(h.em.store.view(job))).not.toContain(FAKE_KEY);
    for (const w of h.em.supervisor.workers.values()) for (const l of w.tail) expect(l).not.toContain(FAKE_KEY);
  });
});
