/**
 * The worker's heartbeat and stop channel, in their own thread so that a function that blocks the event loop
 * (synchronous, CPU-bound code) neither silences the heartbeat nor escapes a stop:
 * - ping: runpod-python runs it in a separate process and sends the first ping before it first sleeps
 *   (runpod/serverless/modules/rp_ping.py `Heartbeat.start_ping` / `ping_loop`);
 * - stop: long-poll `job-stop` and, on `{"jobsToStop": [...]}` naming the job in flight, stop it (rp_job.py
 *   `get_stop_signals`, rp_scale.py `monitor_stop_signals`). JavaScript cannot interrupt a running function, so
 *   the worker ends itself (SIGKILL: nothing of the stopped job may be posted); the platform starts a fresh one.
 */

/** What the monitor thread needs. */
export interface MonitorOptions {
  /** Ping URL with its query (runpod_version) already added; none = no heartbeat. */
  ping?: string;
  pingMs: number;
  /** job-stop URL; none = no stop channel. */
  stop?: string;
  headers: Record<string, string>;
}

/** Tells the monitor thread which jobs are in flight (several on a worker with `FLASH_MAX_CONCURRENCY`). */
export interface Monitor {
  running(jobIds: string[]): void;
}

const THREAD = `
let jobs = [];
let opts;
const sep = (u) => (u.includes("?") ? "&" : "?");
async function ping() {
  // rp_ping.py: the jobs in progress, comma-separated, as job_id.
  const url = jobs.length ? opts.ping + sep(opts.ping) + "job_id=" + encodeURIComponent(jobs.join(",")) : opts.ping;
  await fetch(url, { headers: opts.headers, signal: AbortSignal.timeout(opts.pingMs * 2) }).then((r) => r.body?.cancel(), () => {});
}
async function stops() {
  for (;;) {
    try {
      const res = await fetch(opts.stop, { headers: opts.headers, signal: AbortSignal.timeout(95000) });
      if (res.status === 200) {
        const body = await res.json().catch(() => ({}));
        const ids = Array.isArray(body?.jobsToStop) ? body.jobsToStop : [];
        const hit = jobs.find((j) => ids.includes(j));
        if (hit) {
          // The jobs beside it end with the worker: JavaScript cannot stop one function and keep the others.
          process.stderr.write("[flash worker] job " + hit + " was cancelled or timed out: stopping this worker\\n");
          process.kill(process.pid, "SIGKILL");
        }
        continue;
      }
      await res.body?.cancel();
      if (res.status === 429) await Bun.sleep(5000);
      else if (res.status !== 204) await Bun.sleep(1000);
    } catch {
      await Bun.sleep(1000);
    }
  }
}
self.onmessage = (e) => {
  const m = e.data;
  if (m.init) {
    opts = m.init;
    if (opts.ping) {
      ping();
      setInterval(ping, opts.pingMs);
    }
    if (opts.stop) stops();
    return;
  }
  jobs = m.jobs;
};
`;

/** Start the monitor thread (nothing when there is neither a ping nor a stop URL). */
export function startMonitor(opts: MonitorOptions): Monitor {
  if (!opts.ping && !opts.stop) return { running: () => {} };
  const url = URL.createObjectURL(new Blob([THREAD], { type: "application/javascript" }));
  const thread = new Worker(url);
  thread.postMessage({ init: opts });
  (thread as unknown as { unref?(): void }).unref?.(); // the loop, not this thread, keeps the process alive
  return { running: (jobIds) => thread.postMessage({ jobs: jobIds }) };
}
