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

/** Tells the monitor thread which job is in flight. */
export interface Monitor {
  running(jobId: string | undefined): void;
}

const THREAD = `
let job;
let opts;
const sep = (u) => (u.includes("?") ? "&" : "?");
async function ping() {
  const url = job ? opts.ping + sep(opts.ping) + "job_id=" + encodeURIComponent(job) : opts.ping;
  await fetch(url, { headers: opts.headers, signal: AbortSignal.timeout(opts.pingMs * 2) }).then((r) => r.body?.cancel(), () => {});
}
async function stops() {
  for (;;) {
    try {
      const res = await fetch(opts.stop, { headers: opts.headers, signal: AbortSignal.timeout(95000) });
      if (res.status === 200) {
        const body = await res.json().catch(() => ({}));
        const ids = Array.isArray(body?.jobsToStop) ? body.jobsToStop : [];
        if (job && ids.includes(job)) {
          process.stderr.write("[flash worker] job " + job + " was cancelled or timed out: stopping this worker\\n");
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
  job = m.job;
};
`;

/** Start the monitor thread (nothing when there is neither a ping nor a stop URL). */
export function startMonitor(opts: MonitorOptions): Monitor {
  if (!opts.ping && !opts.stop) return { running: () => {} };
  const url = URL.createObjectURL(new Blob([THREAD], { type: "application/javascript" }));
  const thread = new Worker(url);
  thread.postMessage({ init: opts });
  (thread as unknown as { unref?(): void }).unref?.(); // the loop, not this thread, keeps the process alive
  return { running: (jobId) => thread.postMessage({ job: jobId }) };
}
