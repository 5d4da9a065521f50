/** Load with `wrk` (a separate process): requests/s of one POST route, and the CPU that wrk itself needed. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cpuSeconds } from "./proc";

/** What one wrk run measured. */
export interface WrkResult {
  rps: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
  latencyAvg: string;
  /** CPU seconds wrk used per second of wall time (1.0 = one full core). */
  wrkCores: number;
  /** CPU seconds the server used per second of wall time, when its pid was given. */
  serverCores: number;
  /** Requests served per CPU-second of the server: what the server costs, whatever else the machine is doing. */
  perCpuSecond: number;
}

/** Write a wrk Lua script that POSTs `body` as JSON. */
export function writePostScript(dir: string, body: unknown): string {
  const file = join(dir, "post.lua");
  const json = JSON.stringify(body).replaceAll("\\", "\\\\").replaceAll("'", "\\'");
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = '${json}'\nwrk.headers["Content-Type"] = "application/json"\n`);
  return file;
}

function parseCount(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Run `wrk -t<threads> -c<connections> -d<seconds>s -s <script> <url>`; returns its figures. */
export async function runWrk(
  url: string,
  script: string,
  opts: { seconds: number; connections?: number; threads?: number; serverPid?: number },
): Promise<WrkResult> {
  const argv = [
    "wrk",
    `-t${opts.threads ?? 2}`,
    `-c${opts.connections ?? 32}`,
    `-d${opts.seconds}s`,
    "-s",
    script,
    url,
  ];
  const serverCpu0 = opts.serverPid ? cpuSeconds(opts.serverPid) : Number.NaN;
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`wrk exited ${code}: ${err || out}`);
  const usage = proc.resourceUsage();
  const wrkCpu = usage ? Number(usage.cpuTime.total) / 1e6 : Number.NaN;
  const serverCpu = opts.serverPid ? cpuSeconds(opts.serverPid) - serverCpu0 : Number.NaN;
  return {
    rps: parseCount(out, /Requests\/sec:\s+([\d.]+)/),
    requests: parseCount(out, /(\d+) requests in/),
    non2xx: parseCount(out, /Non-2xx or 3xx responses:\s+(\d+)/),
    socketErrors: [/connect (\d+)/, /read (\d+)/, /write (\d+)/, /timeout (\d+)/].reduce(
      (n, re) => n + parseCount(out, re),
      0,
    ),
    latencyAvg: /Latency\s+(\S+)/.exec(out)?.[1] ?? "—",
    wrkCores: wrkCpu / wall,
    serverCores: serverCpu / wall,
    perCpuSecond: parseCount(out, /(\d+) requests in/) / serverCpu,
  };
}
