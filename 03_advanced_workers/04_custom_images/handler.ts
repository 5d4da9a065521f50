/**
 * The custom image's own handler (its CMD): Runpod's queue-worker protocol, as runpod-python's
 * `runpod.serverless.start({"handler": …})` speaks it (runpod-python serverless/modules/rp_job.py, rp_http.py,
 * rp_ping.py): long-poll `RUNPOD_WEBHOOK_GET_JOB` for a job, run the handler on its `input`, post `{output}` (or
 * `{error}`) to `RUNPOD_WEBHOOK_POST_OUTPUT`, and ping `RUNPOD_WEBHOOK_PING` every `RUNPOD_PING_INTERVAL` ms.
 * A `ServerlessEndpoint` call reaches it as that raw `input`. The same file runs under `flash emulator --image`.
 * Without the platform's variables it runs one job from `--test_input '{…}'` and prints the output, as
 * runpod-python's worker does.
 */
import { type CheckInput, checkProvider } from "./provider";

const env = process.env;

/** Run one job's input; a failure becomes runpod-python's `error` (a string). */
async function run(input: unknown): Promise<{ output: unknown } | { error: string }> {
  try {
    return { output: await checkProvider((input ?? {}) as CheckInput) };
  } catch (err) {
    return { error: JSON.stringify({ error_type: (err as Error).name, error_message: (err as Error).message }) };
  }
}

async function serve(): Promise<void> {
  const pod = env.RUNPOD_POD_ID ?? crypto.randomUUID();
  const headers = { authorization: env.RUNPOD_AI_API_KEY ?? "", "content-type": "application/json" };
  const take = `${env.RUNPOD_WEBHOOK_GET_JOB!.replaceAll("$ID", pod)}&job_in_progress=0`;
  const done = env.RUNPOD_WEBHOOK_POST_OUTPUT!.replaceAll("$RUNPOD_POD_ID", pod);
  const ping = env.RUNPOD_WEBHOOK_PING?.replaceAll("$RUNPOD_POD_ID", pod);
  if (ping) {
    const beat = () => fetch(ping, { headers }).catch(() => {});
    void beat();
    setInterval(beat, Number(env.RUNPOD_PING_INTERVAL ?? 10_000) || 10_000);
  }
  // Runpod sends SIGTERM before it stops a worker: finish the job in flight (its caller is waiting), then exit.
  let busy = false;
  let stopping = false;
  process.on("SIGTERM", () => {
    stopping = true;
    if (!busy) process.exit(0);
  });
  while (!stopping) {
    const res = await fetch(take, { headers }).catch(() => undefined);
    // 204: no job in this long poll; anything else but 200: wait a little, as runpod-python does.
    if (!res || res.status !== 200) {
      if (res?.status !== 204) await Bun.sleep(500);
      continue;
    }
    busy = true;
    const job = (await res.json()) as { id: string; input?: unknown };
    const body = await run(job.input);
    await fetch(`${done.replaceAll("$ID", job.id)}&isStream=false`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    }).catch(() => {});
    busy = false;
  }
  process.exit(0);
}

if (env.RUNPOD_WEBHOOK_GET_JOB && env.RUNPOD_WEBHOOK_POST_OUTPUT) await serve();
else {
  const at = process.argv.indexOf("--test_input");
  const input = at > 0 ? JSON.parse(process.argv[at + 1] ?? "{}") : { provider: "auto" };
  process.stdout.write(`${JSON.stringify(await run(input))}\n`);
}
