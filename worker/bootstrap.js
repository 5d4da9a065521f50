// flash's Runpod bootstrap: the only code a default-image template carries (base64 in FLASH_BOOTSTRAP, run by the
// template's start command). It obtains flash's worker program — from the cache when a worker on this disk or
// network volume already has it, else from the first job or request that carries it (flash sends the program's
// code with a call once per endpoint, and again when a worker answers `missing: ["worker"]`) — then hands over.
// Plain JavaScript with no imports beyond Bun and node: it runs on a stock `oven/bun` image.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";

const env = process.env;
const want = env.FLASH_WORKER_HASH || "";
// Container paths carry FLASH_CONTAINER_ROOT, which only the emulator sets (its container's "/").
const top = env.FLASH_CONTAINER_ROOT || "";
const root =
  env.FLASH_WORKER_CACHE ||
  (existsSync(`${top}/runpod-volume`) ? `${top}/runpod-volume/.cache/flash-worker` : `${top}/tmp/flash-worker`);
const dir = `${root}/program/${want}`;
const file = `${dir}/main.js`;
const say = (line) => process.stderr.write(`[flash bootstrap] ${line}\n`);
// Under flash's emulator: exit once it is gone (a "container" must not outlive its platform).
const emulatorPid = Number(env.FLASH_EMULATOR_PID);
if (emulatorPid)
  setInterval(() => {
    try {
      process.kill(emulatorPid, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
const missing = {
  success: false,
  missing: ["worker"],
  error: { name: "CodeMissing", message: `this worker has no flash worker program ${want} yet` },
};

/** Keep the program a call carried when it is the one this template names (checked by content hash). */
function keep(input) {
  const w = input && typeof input === "object" ? (input.input ?? input).worker : undefined;
  const files = w?.files;
  if (!w || w.hash !== want || !files || typeof files["main.js"] !== "string") return false;
  const names = Object.keys(files).sort();
  if (names.some((n) => !/^[\w.-]+\.js$/.test(n) || typeof files[n] !== "string")) return false;
  const canonical = JSON.stringify(names.map((n) => [n, files[n]]));
  if (new Bun.CryptoHasher("sha256").update(canonical).digest("hex").slice(0, 16) !== want) return false;
  if (existsSync(file)) return true;
  // Written beside the final folder, then renamed: a worker on the same disk never sees half a program.
  const tmp = `${dir}.${process.pid}.tmp`;
  mkdirSync(tmp, { recursive: true });
  for (const n of names) writeFileSync(`${tmp}/${n}`, files[n]);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker finished first
  }
  return existsSync(file);
}

/**
 * Ping while waiting for the program, as runpod-python does from the moment a worker starts (rp_ping.py
 * Heartbeat.start_ping): RUNPOD_WEBHOOK_PING every RUNPOD_PING_INTERVAL ms. Returns a stop.
 */
function heartbeat(pod, headers) {
  const ping = env.RUNPOD_WEBHOOK_PING;
  if (!ping) return () => {};
  const ms = Number(env.RUNPOD_PING_INTERVAL) || 10_000;
  const url = `${ping.replaceAll("$RUNPOD_POD_ID", pod)}${ping.includes("?") ? "&" : "?"}runpod_version=flash-bootstrap/1`;
  const beat = () =>
    fetch(url, { headers, signal: AbortSignal.timeout(ms * 2) }).then(
      (r) => r.body?.cancel(),
      () => {},
    );
  beat();
  const timer = setInterval(beat, ms);
  return () => clearInterval(timer);
}

async function queue() {
  const key = env.RUNPOD_AI_API_KEY || "";
  const pod = env.RUNPOD_POD_ID || crypto.randomUUID();
  const take = `${env.RUNPOD_WEBHOOK_GET_JOB.replaceAll("$ID", pod)}${env.RUNPOD_WEBHOOK_GET_JOB.includes("?") ? "&" : "?"}job_in_progress=0`;
  const done = env.RUNPOD_WEBHOOK_POST_OUTPUT.replaceAll("$RUNPOD_POD_ID", pod);
  const headers = { authorization: key, "content-type": "application/json", "user-agent": "flash-bootstrap/1" };
  const quiet = heartbeat(pod, headers);
  for (;;) {
    let res;
    try {
      res = await fetch(take, { headers, signal: AbortSignal.timeout(95_000) });
    } catch (err) {
      say(`cannot take a job: ${err.message}`);
      await Bun.sleep(1000);
      continue;
    }
    if (res.status === 429) await Bun.sleep(5000);
    if (res.status === 400) await Bun.sleep(500);
    const text = res.status === 200 ? await res.text() : "";
    if (!text) continue;
    const job = JSON.parse(text);
    if (!job?.id) continue;
    if (keep(job.input)) {
      quiet(); // the worker program's own heartbeat takes over
      return (await import(file)).runRunpodWorker([], { firstJob: job });
    }
    const url = `${done.replaceAll("$ID", job.id)}${done.includes("?") ? "&" : "?"}isStream=false`;
    await fetch(url, { method: "POST", headers, body: JSON.stringify({ output: missing }) }).catch((e) =>
      say(e.message),
    );
  }
}

function lb() {
  const health = env.HEALTH_CHECK_PATH || "/ping";
  let handler;
  const fetchFn = async (req) => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === health) return Response.json({ status: "healthy" });
    if (handler) return handler(req);
    const text = await req.text();
    let body;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {}
    if (!keep(body)) return Response.json(missing);
    handler ??= await (await import(file)).lbHandler();
    return handler(new Request(req.url, { method: req.method, headers: req.headers, body: text }));
  };
  const port = Number(env.PORT || 80);
  Bun.serve({ port, hostname: "0.0.0.0", idleTimeout: 0, fetch: fetchFn });
  const hp = Number(env.PORT_HEALTH || port);
  if (hp !== port)
    Bun.serve({
      port: hp,
      hostname: "0.0.0.0",
      fetch: (req) =>
        new URL(req.url).pathname === health
          ? Response.json({ status: "healthy" })
          : new Response(null, { status: 404 }),
    });
  say(`waiting for flash's worker program on port ${port}`);
}

if (existsSync(file)) await (await import(file)).runRunpodWorker([]);
else if (env.FLASH_WORKER_MODE === "lb") lb();
else if (env.RUNPOD_WEBHOOK_GET_JOB && env.RUNPOD_WEBHOOK_POST_OUTPUT) await queue();
else say("no FLASH_WORKER_MODE=lb and no RUNPOD_WEBHOOK_GET_JOB: nothing to do");
