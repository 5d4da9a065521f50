// The local target's GPU handling (pinning from a fake nvidia-smi, CPU fallback) and its lifecycle inside
// `flash run`: Ctrl+C and --watch reloads stop worker processes, leaving no orphans.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CpuLiveServerless, LiveServerless } from "../../core/remote/config";
import { LocalTarget } from "../../core/remote/local/local-target";
import { log } from "../../core/base/log";
import type { RemoteFunctionRef } from "../../core/remote/protocol";
import * as fx from "../fixtures/remote/functions";
import { alive, childProcesses, requestFor, until } from "../fixtures/remote/helpers";
import { collectOutput } from "../helpers/workspace";

const ROOT = join(import.meta.dir, "../..");
const temp = mkdtempSync(join(tmpdir(), "flash-remote-lifecycle-"));
const targets: LocalTarget[] = [];
afterAll(async () => {
  await Promise.all(targets.map((t) => t.shutdown()));
  rmSync(temp, { recursive: true, force: true });
});

/** Run `fn` with PATH set to `path`, restoring it after (nvidia-smi is looked up on PATH). */
async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

function refFor(fn: unknown, config: LiveServerless | CpuLiveServerless): RemoteFunctionRef {
  return { ...(fn as { remote: RemoteFunctionRef }).remote, config };
}

/** Log lines written through flash's logger while `fn` runs. */
async function logged<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const reporter = {
    log: (o: { args: unknown[]; tag?: string }) =>
      lines.push(`${o.tag ? `[${o.tag}] ` : ""}${o.args.map(String).join(" ")}`),
  };
  log.addReporter(reporter);
  try {
    return { value: await fn(), lines };
  } finally {
    log.removeReporter(reporter);
  }
}

describe("GPU configs", () => {
  test("workers are pinned round robin to the GPUs a (fake) nvidia-smi lists, gpuCount each", async () => {
    const bin = join(temp, "fake-gpu-bin");
    mkdirSync(bin, { recursive: true });
    const smi = join(bin, "nvidia-smi");
    writeFileSync(
      smi,
      "#!/bin/sh\necho '0, NVIDIA H100 80GB HBM3, 81559, GPU-aaa'\necho '1, NVIDIA H100 80GB HBM3, 81559, GPU-bbb'\n",
    );
    chmodSync(smi, 0o755);
    await withPath(`${bin}:${process.env.PATH}`, async () => {
      const target = new LocalTarget();
      targets.push(target);
      const one = new LiveServerless({ name: "lifecycle_gpu_one", workersMax: 3, idleTimeout: 30 });
      const res = await Promise.all(
        [1, 2, 3].map(() => target.call(refFor(fx.gpuEnv, one), requestFor(fx.gpuEnv, 800))),
      );
      const seen = res.map((r) => (r.result as { cuda: string }).cuda).sort();
      expect(seen).toEqual(["0", "0", "1"]);
      expect(res.every((r) => (r.result as { order: string }).order === "PCI_BUS_ID")).toBe(true);
      const two = new LiveServerless({ name: "lifecycle_gpu_two", gpuCount: 2, workersMax: 1 });
      const both = await target.call(refFor(fx.gpuEnv, two), requestFor(fx.gpuEnv, 1));
      expect((both.result as { cuda: string }).cuda).toBe("0,1");
      const status = target.status();
      expect(status.gpus).toBe(2);
      expect(status.pools.find((p) => p.name === "lifecycle_gpu_one")).toMatchObject({
        workerKind: "process",
        workers: { total: 3 },
      });
    });
  }, 30_000); // workers start slowly on a loaded machine

  test("with no nvidia-smi, GPU configs run on the CPU and the log says so once", async () => {
    const empty = join(temp, "empty-bin");
    mkdirSync(empty, { recursive: true });
    const { value, lines } = await logged(() =>
      withPath(empty, async () => {
        const target = new LocalTarget();
        targets.push(target);
        const a = new LiveServerless({ name: "lifecycle_nogpu_a", workersMax: 1 });
        const b = new LiveServerless({ name: "lifecycle_nogpu_b", workersMax: 1 });
        const r1 = await target.call(refFor(fx.gpuEnv, a), requestFor(fx.gpuEnv, 1));
        const r2 = await target.call(refFor(fx.gpuEnv, b), requestFor(fx.gpuEnv, 1));
        return { r1, r2, status: target.status() };
      }),
    );
    expect(value.r1.success && value.r2.success).toBe(true);
    expect((value.r1.result as { flashWorker: string }).flashWorker).toBe("1");
    expect(value.status.gpus).toBe(0);
    expect(lines.filter((l) => l.includes("no GPU found")).length).toBe(1);
    expect(lines.some((l) => l.includes("GPU configs run on the CPU"))).toBe(true);
  }, 30_000); // workers start slowly on a loaded machine
});

describe("config updates", () => {
  test("a re-created config of the same name updates its pool, or replaces it when it needs other workers", async () => {
    const target = new LocalTarget();
    targets.push(target);
    const v1 = new CpuLiveServerless({ name: "lifecycle_reconfig", workersMax: 1, isolate: false });
    const pool = target.poolFor(refFor(fx.double, v1));
    const v2 = new CpuLiveServerless({ name: "lifecycle_reconfig", workersMax: 2, isolate: false });
    expect(target.poolFor(refFor(fx.double, v2))).toBe(pool);
    expect(pool.config).toBe(v2);
    expect(target.poolFor(refFor(fx.double, v1))).toBe(pool); // an old object seen before does not flip it back
    expect(pool.config).toBe(v2);
    const v3 = new CpuLiveServerless({ name: "lifecycle_reconfig" }); // process workers, the default
    const replaced = target.poolFor(refFor(fx.double, v3));
    expect(replaced).not.toBe(pool);
    expect(replaced.workerKind).toBe("process");
    expect((await target.call(refFor(fx.double, v3), requestFor(fx.double, 8))).result).toBe(16);
  }, 30_000); // workers start slowly on a loaded machine
});

describe("shutdown", () => {
  test("LocalTarget.shutdown leaves no worker process and no worker thread", async () => {
    const target = new LocalTarget();
    const config = new LiveServerless({ name: "lifecycle_shutdown", workersMin: 2, workersMax: 2 });
    const threads = new CpuLiveServerless({
      name: "lifecycle_shutdown_threads",
      workersMin: 2,
      workersMax: 2,
      isolate: false,
    });
    target.prepare(refFor(fx.gpuEnv, config));
    target.prepare(refFor(fx.double, threads));
    const pool = target.poolsByName().get("lifecycle_shutdown")!;
    const threadPool = target.poolsByName().get("lifecycle_shutdown_threads")!;
    await until(() => pool.status().workers.idle === 2 && threadPool.status().workers.idle === 2, "warm workers");
    expect(threadPool.status().workerKind).toBe("thread");
    const pids = pool.pids();
    expect(childProcesses(process.pid).map((c) => c.pid)).toEqual(expect.arrayContaining(pids));
    await target.shutdown();
    expect(pids.filter(alive)).toEqual([]);
    expect(childProcesses(process.pid).filter((c) => pids.includes(c.pid))).toEqual([]);
    for (const p of target.status().pools) expect(p.workers.total).toBe(0);
    expect((await target.call(refFor(fx.double, threads), requestFor(fx.double, 1))).error?.name).toBe("PoolStopped");
  }, 30_000); // workers start slowly on a loaded machine
});

// ---- flash run: Ctrl+C and --watch reloads ----

function writeWorkspace(dir: string): string {
  const ex = join(dir, "01_demo", "01_pools");
  mkdirSync(ex, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "ws", private: true, workspaces: ["[0-9][0-9]_*/[0-9][0-9]_*"] }),
  );
  const file = join(ex, "gpu_worker.ts");
  writeFileSync(file, workerSource("v1"));
  return file;
}

function workerSource(version: string): string {
  return `import { Elysia, remote, LiveServerless, CpuLiveServerless } from "flash";
const gpu = new LiveServerless({ name: "lifecycle_run_gpu", workersMin: 2, workersMax: 2, idleTimeout: 60 });
const cpu = new CpuLiveServerless({ name: "lifecycle_run_cpu", workersMin: 1, workersMax: 1, isolate: false });
export const where = remote(gpu, async () => ({ pid: process.pid, version: "${version}" }));
export const threadCall = remote(cpu, async () => "thread ok");
export const gpu_router = new Elysia().get("/where", () => where()).get("/thread", () => threadCall());
`;
}

async function startFlash(dir: string, watch: boolean) {
  const args = [process.execPath, join(ROOT, "cli.ts"), "run", dir, "--port", "0", ...(watch ? ["--watch"] : [])];
  const proc = Bun.spawn(args, { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const output = collectOutput(proc);
  await until(() => /http:\/\/[^\s]+:\d+/.test(output()) || proc.exitCode !== null, "flash run to listen");
  const url = /(http:\/\/[^\s]+:\d+)/.exec(output())?.[1];
  if (!url) throw new Error(`flash run did not start:\n${output()}`);
  return { proc, url, output };
}

function workerPids(pid: number): number[] {
  return childProcesses(pid)
    .filter((c) => c.cmd.includes("pool-entry.ts"))
    .map((c) => c.pid);
}

describe("flash run", () => {
  test("Ctrl+C stops every worker: no orphan processes remain", async () => {
    const dir = mkdtempSync(join(temp, "run-"));
    writeWorkspace(dir);
    const flash = await startFlash(dir, false);
    try {
      const res = await fetch(`${flash.url}/01_demo/01_pools/gpu/where`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { pid: number };
      expect(await (await fetch(`${flash.url}/01_demo/01_pools/gpu/thread`)).text()).toBe("thread ok");
      await until(() => workerPids(flash.proc.pid).length === 2, "two warm worker processes");
      const pids = workerPids(flash.proc.pid);
      expect(pids).toContain(body.pid);
      const health = (await (await fetch(`${flash.url}/health`)).json()) as {
        local: { pools: { name: string; workers: { total: number } }[] };
      };
      expect(health.local.pools.find((p) => p.name === "lifecycle_run_gpu")?.workers.total).toBe(2);
      expect(health.local.pools.find((p) => p.name === "lifecycle_run_cpu")?.workers.total).toBe(1);
      flash.proc.kill("SIGINT");
      expect(await flash.proc.exited).toBe(0);
      await until(() => pids.every((p) => !alive(p)), "worker processes gone after Ctrl+C", 10_000);
      expect(flash.output()).toContain("scale up");
    } finally {
      flash.proc.kill("SIGKILL");
    }
  }, 60_000);

  test("a --watch reload runs the new code on the same warm workers; Ctrl+C stops them", async () => {
    const dir = mkdtempSync(join(temp, "watch-"));
    const file = writeWorkspace(dir);
    const flash = await startFlash(dir, true);
    try {
      const first = (await (await fetch(`${flash.url}/01_demo/01_pools/gpu/where`)).json()) as {
        pid: number;
        version: string;
      };
      expect(first.version).toBe("v1");
      await until(() => workerPids(flash.proc.pid).length === 2, "two warm worker processes");
      const old = workerPids(flash.proc.pid);
      writeFileSync(file, workerSource("v2"));
      // The workers re-import the edited module before their next call: same processes, new code.
      let second = { pid: 0, version: "" };
      for (let i = 0; i < 200 && second.version !== "v2"; i++) {
        second = (await (await fetch(`${flash.url}/01_demo/01_pools/gpu/where`)).json()) as typeof second;
        if (second.version !== "v2") await Bun.sleep(50);
      }
      expect(second.version).toBe("v2");
      expect(old).toContain(second.pid);
      expect(old.every((p) => alive(p))).toBe(true);
      flash.proc.kill("SIGINT");
      await flash.proc.exited;
      const after = workerPids(flash.proc.pid);
      expect(after).toEqual([]);
    } finally {
      flash.proc.kill("SIGKILL");
    }
  }, 60_000);
});
