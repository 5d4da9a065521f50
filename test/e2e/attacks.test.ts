// Attacks on one `flash run --watch`, as a user's code and clients would make them: a native
// crash, an OOM under an rlimit, `process.exit`, `chdir` and leaked globals, runaway child processes, oversized
// chunked bodies, slow clients, abandoned streams, bursts of saves, deleted and renamed folders. After each, the
// server still answers `/health`, the other examples still answer, and nothing the attack started is left running.
// Every wait is for an event (a file written, a state on /health, a process gone), never a fixed sleep.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { makeWorkspace, removeDir, startFlash, type FlashProcess } from "../helpers/workspace";

/** Functions that attack their own worker, on a CPU config (before: thread workers inside the server). */
const ATTACK = `import { CpuLiveServerless, Elysia, remote, t } from "flash";
const config = new CpuLiveServerless({ name: "attack_cpu", workersMax: 2 });
export const abort = remote(config, async () => { process.abort(); });
export const exitNow = remote(config, async () => { process.exit(3); });
export const meddle = remote(config, async () => { process.chdir("/"); (globalThis as any).leaked = "yes"; return process.cwd(); });
export const whoami = remote(config, async () => ({
  pid: process.pid, cwd: process.cwd(), leaked: (globalThis as any).leaked ?? null,
  example: process.env.EXAMPLE_ONLY ?? null,
}));
export const children = remote(config, async (file: string) => {
  const kids = [Bun.spawn(["sleep", "600"]), Bun.spawn(["sleep", "600"])];
  await Bun.write(file, JSON.stringify(kids.map((k) => k.pid)));
  await new Promise(() => {}); // runs until it is stopped
});
export const cpu_router = new Elysia()
  .post("/abort", () => abort())
  .post("/exit", () => exitNow())
  .post("/meddle", () => meddle())
  .get("/whoami", () => whoami())
  .post("/children", ({ body }) => children(body.file), { body: t.Object({ file: t.String() }) })
  .post("/echo", ({ body }) => ({ length: body.text.length }), { body: t.Object({ text: t.String() }) });
`;

const OTHER = `import { CpuLiveServerless, Elysia, remote, sse, t } from "flash";
const config = new CpuLiveServerless({ name: "other_cpu", workersMax: 3 });
export const ticks = remote(config, async function* () { for (let i = 0; ; i++) { yield i; await Bun.sleep(5); } });
export const cpu_router = new Elysia()
  .get("/hello", () => ({ hello: "other" }))
  .get("/ticks", () => sse(ticks()))
  .post("/hello", ({ body }) => ({ hello: body.name }), { body: t.Object({ name: t.String() }) });
`;

const edited = (v: string) => `import { CpuLiveServerless, Elysia, remote } from "flash";
const config = new CpuLiveServerless({ name: "edited_cpu", workersMax: 1 });
export const version = remote(config, async () => "${v}");
export const cpu_router = new Elysia().get("/version", () => version());
`;

/** Calls that hold until the test writes their release file: in flight for as long as the test needs. */
const VICTIM = `import { CpuLiveServerless, Elysia, remote, t } from "flash";
const config = new CpuLiveServerless({ name: "victim_cpu", workersMax: 2 });
export const hold = remote(config, async (release: string, started: string) => {
  await Bun.write(started, "running");
  while (!(await Bun.file(release).exists())) await Bun.sleep(5);
  return "finished";
});
export const cpu_router = new Elysia().post("/hold", ({ body }) => hold(body.release, body.started), {
  body: t.Object({ release: t.String(), started: t.String() }),
});
`;

const PLAIN = `import { Elysia } from "flash";
export const cpu_router = new Elysia().get("/hello", () => ({ hello: "plain" }));
`;

const ENV = `import { CpuLiveServerless, Elysia, remote } from "flash";
const config = new CpuLiveServerless({ name: "env_cpu", workersMax: 1 });
export const vars = remote(config, async () => ({ example: process.env.EXAMPLE_ONLY ?? null, root: process.env.ROOT_VAR ?? null }));
export const cpu_router = new Elysia().get("/vars", () => vars());
`;

/** Allocates under a data-size cap it sets on its own worker (RLIMIT_DATA), until it runs out. */
const OOM = `import { CpuLiveServerless, Elysia, remote } from "flash";
import { dlopen, FFIType, ptr } from "bun:ffi";
const config = new CpuLiveServerless({ name: "oom_cpu", workersMax: 1 });
export const hog = remote(config, async () => {
  const libc = dlopen("libc.so.6", { setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
  const data = Number(/VmData:\\s+(\\d+)/.exec(await Bun.file("/proc/self/status").text())![1]) * 1024;
  const cap = BigInt(data + 128 * 1024 * 1024);
  libc.symbols.setrlimit(2, ptr(new BigUint64Array([cap, cap])));
  const keep: unknown[] = [];
  for (;;) keep.push(Buffer.alloc(1 << 24, 1));
});
export const cpu_router = new Elysia().post("/hog", () => hog());
`;

const DUPE_WORKER = `import { Elysia, t } from "flash";
export const cpu_router = new Elysia().post("/echo", ({ body }) => ({ from: "worker", text: body.text }), { body: t.Object({ text: t.String() }) });
`;
const DUPE_MAIN = `import { Elysia, t } from "flash";
export const api_router = new Elysia().post("/cpu/echo", ({ body }) => ({ from: "main", text: body.text }), { body: t.Object({ text: t.String() }) });
`;

const A = "/01_cat/01_attack/cpu";
const OTHER_URL = "/01_cat/02_other/cpu/hello";

/** Every process descending from `pid` (children, their children…), read from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // gone while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p && !out.includes(child)) out.push(child), walk(child);
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The pids a function wrote to `file`, once all of it is there (it may be read while being written). */
function pidsIn(file: string): number[] | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** Poll `check` (an event: a file, a state, a process gone) until it holds; fail with `what` after `ms`. */
async function waitFor<T>(check: () => T | Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(10);
  }
}

describe("user code and clients cannot take the server down", () => {
  let ws: string;
  let flash: FlashProcess;
  /** Every process the server ever had below it: all must be gone once it is killed. */
  const seen = new Set<number>();
  const url = (path: string) => `${flash.url}${path}`;
  const parse = async (res: Response) => {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  const get = async (path: string) => {
    const res = await fetch(url(path));
    return { status: res.status, body: await parse(res) };
  };
  const post = async (path: string, body: unknown = {}, init: RequestInit = {}) => {
    const res = await fetch(url(path), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      ...init,
    });
    return { status: res.status, body: await parse(res) };
  };
  const pools = async (): Promise<Record<string, any>> =>
    Object.fromEntries(((await get("/health")).body.local?.pools ?? []).map((p: any) => [p.name, p]));

  /** The server is up, another example answers, and every process below the server is accounted for. */
  async function stillServing(): Promise<void> {
    expect((await get("/health")).status).toBe(200);
    expect(await get(OTHER_URL)).toEqual({ status: 200, body: { hello: "other" } });
    expect(alive(flash.proc.pid)).toBe(true);
    for (const pid of descendants(flash.proc.pid)) seen.add(pid);
  }

  beforeAll(async () => {
    ws = makeWorkspace({
      ".env": "ROOT_VAR=one\n",
      "01_cat/01_attack/cpu_worker.ts": ATTACK,
      "01_cat/02_other/cpu_worker.ts": OTHER,
      "01_cat/03_edited/cpu_worker.ts": edited("v0"),
      "01_cat/04_victim/cpu_worker.ts": VICTIM,
      "01_cat/05_moving/cpu_worker.ts": PLAIN,
      "01_cat/07_dupe/cpu_worker.ts": DUPE_WORKER,
      "01_cat/07_dupe/main.ts": DUPE_MAIN,
      "01_cat/08_ünïcødé/cpu_worker.ts": PLAIN,
      "01_cat/09_env/cpu_worker.ts": ENV,
      "01_cat/09_env/.env": "EXAMPLE_ONLY=from-example\n",
      "01_cat/10_oom/cpu_worker.ts": OOM,
    });
    flash = await startFlash(ws, ["--watch", "--max-body", "1MiB"]);
  }, 30_000);

  afterAll(async () => {
    if (process.env.ATTACKS_LOG) console.log(flash.output());
    if (flash.proc.exitCode === null) flash.proc.kill("SIGKILL");
    removeDir(ws);
  });

  test("a CPU config's remote functions run in worker processes, not in the server", async () => {
    const who = await get(`${A}/whoami`);
    expect(who.status).toBe(200);
    expect(who.body.pid).not.toBe(flash.proc.pid);
    expect((await pools()).attack_cpu?.workerKind).toBe("process");
    await stillServing();
  }, 30_000);

  test("a native crash (process.abort) in a CPU config's function fails only its call, with the reason in the log", async () => {
    const before = (await get(`${A}/whoami`)).body.pid;
    const crashed = await post(`${A}/abort`);
    expect(crashed.status).toBe(500);
    expect(crashed.body.error).toBe("internal_error");
    await waitFor(
      () => /exited \(code [^)]*\) \(signal SIGABRT\) while running abort; replacing it/.test(flash.output()),
      "the crash in the log",
    );
    await stillServing();
    const after = await get(`${A}/whoami`);
    expect(after.status).toBe(200);
    expect(after.body.pid).not.toBe(before);
  }, 30_000);

  test("process.exit, chdir and a leaked global stay in their worker", async () => {
    expect((await post(`${A}/exit`)).status).toBe(500);
    await waitFor(() => /exited \(code 3\) while running exitNow/.test(flash.output()), "the exit in the log");
    const meddled = await post(`${A}/meddle`);
    expect(meddled).toEqual({ status: 200, body: "/" });
    await stillServing();
    // The server's cwd is unchanged: it still finds the workspace's examples relative to it.
    expect(readFileSync(`/proc/${flash.proc.pid}/cwd/01_cat/02_other/cpu_worker.ts`, "utf8")).toBe(OTHER);
  }, 30_000);

  test("an OOM under an rlimit fails only its call", async () => {
    const res = await post("/01_cat/10_oom/cpu/hog");
    expect(res.status).toBe(500);
    await stillServing();
  }, 60_000);

  test("a stopped call's child processes stop with its worker (its whole process group)", async () => {
    const file = join(ws, "kids-cancel.json");
    const client = new AbortController();
    const call = fetch(url(`${A}/children`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ file }),
      signal: client.signal,
    }).catch((e: Error) => e.name);
    const kids: number[] = await waitFor(() => pidsIn(file), "children");
    expect(kids.every(alive)).toBe(true);
    client.abort();
    expect(await call).toBe("AbortError");
    await waitFor(() => !kids.some(alive), "the children to stop with their worker");
    await stillServing();
  }, 30_000);

  test("--max-body holds for a chunked body: counted while read, 413 at the limit", async () => {
    const piece = new TextEncoder().encode("a".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"text":"'));
      },
      pull(c) {
        if (sent >= 3 * 1024 * 1024) {
          c.enqueue(new TextEncoder().encode('"}'));
          return c.close();
        }
        sent += piece.byteLength;
        c.enqueue(piece);
      },
    });
    const res = await fetch(url(`${A}/echo`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).message).toContain("accepts up to 1.0 MiB");
    // A small chunked body is still read and served.
    const small = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"text":"abc"}'));
        c.close();
      },
    });
    const ok = await fetch(url(`${A}/echo`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: small,
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ length: 3 });
    await stillServing();
  }, 30_000);

  test("slow clients (headers and bodies trickling) do not slow anyone else", async () => {
    const { port, hostname } = new URL(flash.url);
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = connect(Number(port), hostname);
      s.on("error", () => undefined);
      await new Promise((r) => s.once("connect", r));
      s.write(
        i % 2
          ? "GET /health HTTP/1.1\r\nHost: x\r\n"
          : `POST ${OTHER_URL} HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"na`,
      );
      sockets.push(s);
    }
    await stillServing();
    expect(await post(OTHER_URL, { name: "fast" })).toEqual({ status: 200, body: { hello: "fast" } });
    for (const s of sockets) s.destroy();
  }, 30_000);

  test("abandoned SSE streams stop their generators and free their workers", async () => {
    const clients = Array.from({ length: 6 }, () => new AbortController());
    await Promise.all(
      clients.map(async (client) => {
        const res = await fetch(url("/01_cat/02_other/cpu/ticks"), { signal: client.signal });
        const reader = res.body!.getReader();
        await reader.read(); // at least one event arrived
        client.abort();
      }),
    );
    await waitFor(async () => {
      const pool = (await pools()).other_cpu;
      return pool && pool.workers.busy === 0 && pool.queue === 0;
    }, "the stream pool to be idle again");
    await stillServing();
  }, 30_000);

  test("a burst of broken and fixed saves leaves the last version served and the others untouched", async () => {
    expect(await get("/01_cat/03_edited/cpu/version")).toEqual({ status: 200, body: "v0" });
    const file = join(ws, "01_cat/03_edited/cpu_worker.ts");
    const others: Promise<number>[] = [];
    for (let i = 1; i <= 20; i++) {
      writeFileSync(file, i % 2 ? `${edited(`v${i}`)}\nexport const broken = ;\n` : edited(`v${i}`));
      others.push(fetch(url(OTHER_URL)).then((r) => r.status));
    }
    writeFileSync(file, edited("final"));
    await waitFor(async () => (await get("/01_cat/03_edited/cpu/version")).body === "final", "the last save served");
    expect(new Set(await Promise.all(others))).toEqual(new Set([200]));
    await waitFor(
      async () => !(await get("/health")).body.errors.some((e: any) => e.example === "01_cat/03_edited"),
      "no load error left for the edited example",
    );
    await stillServing();
  }, 30_000);

  test("deleting an example under --watch lets its in-flight calls finish; then its routes and workers are gone", async () => {
    const release = join(ws, "release-victim");
    const started = [1, 2].map((n) => join(ws, `victim-started-${n}`));
    const calls = started.map((file) => post("/01_cat/04_victim/cpu/hold", { release, started: file }));
    await waitFor(() => started.every((f) => existsSync(f)), "both calls running in their workers");
    const workers = descendants(flash.proc.pid).filter((p) => !seen.has(p));
    rmSync(join(ws, "01_cat/04_victim"), { recursive: true, force: true });
    await waitFor(async () => (await get("/01_cat/04_victim/cpu/hold")).status === 404, "its routes gone");
    writeFileSync(release, "go");
    for (const res of await Promise.all(calls)) expect(res).toEqual({ status: 200, body: "finished" });
    await waitFor(async () => !(await pools()).victim_cpu, "its pool stopped");
    await waitFor(() => !workers.some(alive), "its workers gone");
    await stillServing();
  }, 30_000);

  test("renaming an example folder under load: new path served, old path 404, other examples unaffected", async () => {
    expect(await get("/01_cat/05_moving/cpu/hello")).toEqual({ status: 200, body: { hello: "plain" } });
    let done = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!done) statuses.push((await fetch(url(OTHER_URL))).status);
    })();
    renameSync(join(ws, "01_cat/05_moving"), join(ws, "01_cat/06_moved"));
    await waitFor(async () => (await get("/01_cat/06_moved/cpu/hello")).status === 200, "the new path served");
    done = true;
    await load;
    expect((await get("/01_cat/05_moving/cpu/hello")).status).toBe(404);
    expect(new Set(statuses)).toEqual(new Set([200]));
    await stillServing();
  }, 30_000);

  test("a route defined twice in one example is a load error naming both files", async () => {
    const { body } = await get("/health");
    const error = body.errors.find((e: any) => e.example === "01_cat/07_dupe");
    expect(error?.message).toContain("POST /01_cat/07_dupe/cpu/echo is defined twice");
    expect(error?.message).toContain(join(ws, "01_cat/07_dupe/cpu_worker.ts"));
    expect(error?.message).toContain(join(ws, "01_cat/07_dupe/main.ts"));
  });

  test("an example folder with non-ASCII characters is refused at discovery with a clear message, not listed", async () => {
    const { body } = await get("/health");
    const error = body.errors.find((e: any) => e.example === "01_cat/08_ünïcødé");
    expect(error?.message).toContain('the folder name "08_ünïcødé" has characters a URL path cannot carry');
    const docs = await (await fetch(url("/docs/json"))).text();
    expect(docs).not.toContain("08_");
  });

  test("an example folder's .env reaches its own remote functions only; .env edits reload under --watch", async () => {
    expect(await get("/01_cat/09_env/cpu/vars")).toEqual({
      status: 200,
      body: { example: "from-example", root: "one" },
    });
    expect((await get(`${A}/whoami`)).body.example).toBeNull();
    writeFileSync(join(ws, ".env"), "ROOT_VAR=two\n");
    await waitFor(async () => (await get("/01_cat/09_env/cpu/vars")).body?.root === "two", "the root .env reloaded");
    writeFileSync(join(ws, "01_cat/09_env/.env"), "EXAMPLE_ONLY=edited\n");
    await waitFor(
      async () => (await get("/01_cat/09_env/cpu/vars")).body?.example === "edited",
      "the example .env reloaded",
    );
    await stillServing();
  }, 30_000);

  test("kill -9 of the server in the middle of a call leaves no worker and no child of a worker behind", async () => {
    const file = join(ws, "kids-kill.json");
    void fetch(url(`${A}/children`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ file }),
    }).catch(() => undefined);
    const kids: number[] = await waitFor(() => pidsIn(file), "children");
    for (const pid of [...descendants(flash.proc.pid), ...kids]) seen.add(pid);
    expect(seen.size).toBeGreaterThan(kids.length);
    flash.proc.kill("SIGKILL");
    await flash.proc.exited;
    await waitFor(() => ![...seen].some(alive), "every worker, child and helper of the server to be gone").catch(
      (err) => {
        const left = [...seen].filter(alive).map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, "utf8")}`);
        throw new Error(`${err.message}; left: ${left.join("; ")}`);
      },
    );
  }, 30_000);
});

describe("Runpod's worker variables in a user's .env", () => {
  test("do not make flash run run remote functions inside the server", async () => {
    const ws = makeWorkspace({
      // A user following the calling-endpoints README: the endpoint to call and its key in the root .env.
      ".env": "RUNPOD_ENDPOINT_ID=ep-from-dotenv\nRUNPOD_POD_ID=pod-from-dotenv\n",
      "01_cat/01_attack/cpu_worker.ts": ATTACK,
    });
    const flash = await startFlash(ws);
    let code: number | undefined;
    try {
      const res = await fetch(`${flash.url}${A}/whoami`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { pid: number }).pid).not.toBe(flash.proc.pid);
      const health = (await (await fetch(`${flash.url}/health`)).json()) as any;
      expect(health.local.pools.map((p: any) => p.name)).toEqual(["attack_cpu"]);
    } finally {
      code = await flash.stop();
      removeDir(ws);
    }
    expect(code).toBe(0);
  }, 30_000);
});
