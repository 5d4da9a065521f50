/**
 * `flash emulator --image` workers whose start command runs the handler under a shell (`sh -c 'bun handler.ts'`),
 * a handler that does not listen on the stop channel (so a cancel stops its worker): the endpoint keeps at most
 * `workersMax` workers however many jobs are cancelled, idle workers stop after `idleTimeout`, and no handler
 * process outlives its worker or the emulator.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../../core/emulator/server";
import { collectOutput, REPO } from "../helpers/workspace";
import { until } from "../fixtures/runpod/harness";
import { saveEndpoint } from "../helpers/emulator";

const KEY = "rpa_image_workers_test_key_000000000";
let em: Emulator;
let tmp: string;
let handler: string;

/** A handler as a user writes one: job-take, sleep `input.ms`, job-done; no stop channel, no pings. */
const HANDLER = `const env = process.env;
const pod = env.RUNPOD_POD_ID ?? crypto.randomUUID();
const headers = { authorization: env.RUNPOD_AI_API_KEY ?? "", "content-type": "application/json" };
const take = env.RUNPOD_WEBHOOK_GET_JOB.replace("$ID", pod);
const done = env.RUNPOD_WEBHOOK_POST_OUTPUT.replace("$RUNPOD_POD_ID", pod);
for (;;) {
  const res = await fetch(take, { headers }).catch(() => undefined);
  if (!res) { await Bun.sleep(100); continue; }
  if (res.status !== 200) continue;
  const job = await res.json();
  await Bun.sleep(job.input.ms);
  await fetch(done.replace("$ID", job.id) + "&isStream=false", { method: "POST", headers, body: JSON.stringify({ output: { slept: job.input.ms } }) });
}
`;

/** Live processes running the handler file (the shell wrapper's children included). */
function handlers(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmd[0] !== "sh" && cmd.includes(handler)) out.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${em.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-emu-image-"));
  handler = join(tmp, "handler.ts");
  writeFileSync(handler, HANDLER);
  em = startEmulator({
    apiKey: KEY,
    takeHoldMs: 300,
    // `; true` keeps the shell as the handler's parent, as any start command with more than one step does.
    workers: { images: { "myorg/wrapped:1": `'${process.execPath}' '${handler}'; true` }, pingIntervalMs: 200 },
  });
});

afterAll(async () => {
  await em.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("cancelled jobs do not add workers beyond workersMax, idle workers stop, and none outlives the emulator", async () => {
  const id = await saveEndpoint(em.apiBaseUrl, KEY, {
    name: "wrapped",
    template: { name: "wrapped-tpl", imageName: "myorg/wrapped:1", containerDiskInGb: 10, env: [] },
    instanceIds: ["cpu3c-2-4"],
    workersMin: 0,
    workersMax: 1,
    idleTimeout: 1,
  });
  for (let i = 0; i < 3; i++) {
    const job = await rest("POST", `/v2/${id}/run`, { input: { ms: 60_000 } });
    await until(() => em.store.jobs.get(job.body.id)?.status === "IN_PROGRESS", 15_000, "the job to start");
    expect((await rest("POST", `/v2/${id}/cancel/${job.body.id}`)).body.status).toBe("CANCELLED");
  }
  const finished = await rest("POST", `/v2/${id}/runsync`, { input: { ms: 1 } });
  expect(finished.body).toMatchObject({ status: "COMPLETED", output: { slept: 1 } });
  expect(handlers().length).toBeLessThanOrEqual(1);
  const health = await rest("GET", `/v2/${id}/health`);
  expect(health.body.workers.idle + health.body.workers.running).toBeLessThanOrEqual(1);
  // idleTimeout 1 s: the idle worker and its handler stop.
  await until(() => handlers().length === 0, 15_000, "the idle worker's handler to stop");
  expect(em.supervisor.alive(id)).toEqual([]);
  // A new job starts a worker again; stopping the emulator stops it with its handler.
  expect((await rest("POST", `/v2/${id}/runsync`, { input: { ms: 1 } })).body.status).toBe("COMPLETED");
  expect(handlers().length).toBe(1);
  await em.stop();
  await until(() => handlers().length === 0, 10_000, "no handler left after the emulator stopped");
}, 60_000);

test("kill -9 of `flash emulator` leaves no worker, no handler and no temp folder behind", async () => {
  // Its own temp folder: the emulator's container roots and uploads go there, and must be gone after the kill.
  const ownTmp = mkdtempSync(join(tmp, "tmpdir-"));
  const proc = Bun.spawn(
    [
      process.execPath,
      join(REPO, "cli.ts"),
      "emulator",
      "--port",
      "0",
      "--image",
      `myorg/wrapped:1='${process.execPath}' '${handler}'; true`,
    ],
    {
      cwd: tmp,
      env: { ...process.env, RUNPOD_API_KEY: KEY, NO_COLOR: "1", TMPDIR: ownTmp },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const output = collectOutput(proc);
  try {
    await until(() => /RUNPOD_API_BASE_URL=(\S+)/.test(output()) || proc.exitCode !== null, 20_000, "the emulator");
    const base = /RUNPOD_API_BASE_URL=(\S+)/.exec(output())?.[1];
    if (!base) throw new Error(`flash emulator did not start:\n${output()}`);
    const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
    const id = await saveEndpoint(base, KEY, {
      name: "killed",
      template: { name: "killed-tpl", imageName: "myorg/wrapped:1", containerDiskInGb: 10, env: [] },
      instanceIds: ["cpu3c-2-4"],
      workersMax: 2,
    });
    for (let i = 0; i < 2; i++)
      await fetch(`${base}/v2/${id}/run`, { method: "POST", headers, body: JSON.stringify({ input: { ms: 60_000 } }) });
    await until(() => handlers().length === 2, 20_000, "two handlers running their jobs");
    const made = (name: string) => readdirSync(ownTmp).filter((e) => e.startsWith(name));
    // Its Flash app uploads' folder (an --image worker runs in no container root: modelled images' workers do).
    expect(made("flash-emulator-apps-")).toHaveLength(1);
    proc.kill("SIGKILL");
    await proc.exited;
    await until(() => handlers().length === 0, 10_000, "no handler left after kill -9 of the emulator");
    await until(
      () => made("flash-emulator-containers-").length + made("flash-emulator-apps-").length === 0,
      10_000,
      "the emulator's container roots and uploads removed after kill -9",
    );
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}, 60_000);
