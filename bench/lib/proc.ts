/** Spawning servers for the benchmarks: free ports, "start → first 200" polling, clean stops, RSS and CPU time. */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** What to run: argv, working directory and extra environment. */
export interface Command {
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
}

/** A spawned server process (in its own process group, so a reloader's children stop with it). */
export interface Running {
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  pid: number;
  port: number;
  url: string;
  /** Milliseconds from spawn to the first 200 on `/health`. */
  startMs: number;
  /** CPU milliseconds (user + system, 10 ms ticks) the process had used by then: robust to a loaded machine. */
  startCpuMs: number;
  /** Whatever the server wrote to stderr so far (for error messages). */
  stderr(): Promise<string>;
}

/** A TCP port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `url` every `intervalMs` until it answers 200; returns the time it took, or throws after `timeoutMs`. */
async function pollUntil200(
  url: string,
  since: number,
  timeoutMs: number,
  intervalMs = 2,
  alive?: () => boolean,
): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet: keep polling
    }
    if (alive && !alive()) throw new Error(`process exited before ${url} answered 200`);
    if (performance.now() - since > timeoutMs) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await Bun.sleep(intervalMs);
  }
}

/**
 * Spawn `cmd` (with `{port}` in argv replaced by a free port) and time it to the first 200 on `/health`.
 * `setsid` puts it in its own process group (it execs in place, so the pid is the server's).
 */
export async function startTimed(cmd: Command, timeoutMs = 60_000): Promise<Running> {
  const port = await freePort();
  const argv = ["setsid", ...cmd.argv.map((a) => a.replaceAll("{port}", String(port)))];
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = Bun.spawn(argv, {
    cwd: cmd.cwd,
    env: { ...process.env, NO_COLOR: "1", ...cmd.env },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const chunks: Uint8Array[] = [];
  const drain = (async () => {
    const reader = proc.stderr.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
  })();
  const stderr = async () => Buffer.concat(chunks).toString("utf8");
  try {
    const startMs = await pollUntil200(`${url}/health`, t0, timeoutMs, 2, () => !exited);
    return { proc, pid: proc.pid, port, url, startMs, startCpuMs: cpuSeconds(proc.pid) * 1000, stderr };
  } catch (err) {
    await stopProcess(proc);
    await Promise.race([drain, Bun.sleep(200)]);
    throw new Error(`${cmd.argv.join(" ")}: ${(err as Error).message}\n${(await stderr()).slice(-2000)}`);
  }
}

/** SIGTERM the process group, then SIGKILL it if it has not exited within `graceMs`. */
export async function stopProcess(proc: Bun.Subprocess<any, any, any>, graceMs = 3000): Promise<void> {
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid, sig);
    } catch {
      try {
        proc.kill(sig);
      } catch {
        // already gone
      }
    }
  };
  signalGroup("SIGTERM");
  const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!done) signalGroup("SIGKILL");
  await proc.exited;
  // Reloader children (uvicorn --reload) may outlive the parent for a moment; make sure the group is gone.
  signalGroup("SIGKILL");
}

/** Resident set size of a process in MiB (from /proc), or NaN when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU seconds (user + system, all threads) a process has used so far, or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Run a command to completion and return its wall time in ms (throws on a non-zero exit). */
export async function timeCommand(argv: string[], cwd: string, env?: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  const elapsed = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${(err || out).trim().slice(-500)}`);
  return elapsed;
}
