/**
 * "The endpoint you already have": a small Runpod queue worker, written against Runpod's worker protocol the way
 * runpod-python's `runpod.serverless.start({"handler": handler})` runs one (take a job, run the handler, post the
 * result; https://github.com/runpod/runpod-python, serverless/modules/rp_job.py). The tests run it as the image of
 * an endpoint on flash's Runpod emulator; on Runpod, any deployed endpoint plays this part.
 *
 * Handler input: {text} → word and character counts; {sleep_ms} → waits first; {fail} → the job fails with it.
 */
const env = process.env;
const pod = env.RUNPOD_POD_ID ?? crypto.randomUUID();
const headers = { authorization: env.RUNPOD_AI_API_KEY ?? "", "content-type": "application/json" };
const take = (env.RUNPOD_WEBHOOK_GET_JOB ?? "").replace("$ID", pod);
const done = (env.RUNPOD_WEBHOOK_POST_OUTPUT ?? "").replace("$RUNPOD_POD_ID", pod);

/** The handler: what the endpoint computes for one job input. Throws to fail the job. */
export async function handler(input: { text?: string; sleep_ms?: number; fail?: string }) {
  if (input.fail) throw new Error(input.fail);
  if (input.sleep_ms) await Bun.sleep(Math.min(input.sleep_ms, 10_000));
  const text = String(input.text ?? "");
  return {
    words: text.split(/\s+/).filter(Boolean).length,
    characters: Array.from(text).length,
    upper: text.toUpperCase(),
  };
}

async function serve(): Promise<never> {
  for (;;) {
    const res = await fetch(`${take}${take.includes("?") ? "&" : "?"}job_in_progress=0`, { headers }).catch(() => null);
    if (!res || res.status !== 200) {
      if (!res) await Bun.sleep(500);
      continue;
    }
    const text = await res.text();
    if (!text) continue;
    const job = JSON.parse(text) as { id: string; input: Parameters<typeof handler>[0] };
    let body: unknown;
    try {
      body = { output: await handler(job.input ?? {}) };
    } catch (err) {
      body = { error: JSON.stringify({ error_type: "Error", error_message: (err as Error).message }) };
    }
    await fetch(`${done.replace("$ID", job.id)}&isStream=false`, {
      method: "POST",
      headers: { ...headers, "x-request-id": job.id },
      body: JSON.stringify(body),
    }).catch(() => undefined);
  }
}

if (import.meta.main && take) await serve();
