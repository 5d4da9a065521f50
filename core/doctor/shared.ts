/**
 * What every step of `flash doctor runpod` shares: where it talks to, the price figures it prints, the user code it
 * deploys, the record of what it created (removed on failure and on Ctrl+C), and the step runner with its report.
 */
import { log } from "../base/log";
import { RunpodApiError, RunpodHttp, redact } from "../runpod/http";
import { RunpodRestV2 } from "../runpod/rest-v2";

/** Approximate serverless list prices, USD per worker-second (runpod.io/pricing, flex workers; check there). */
export const PRICES = { cpu: 0.00004, gpu16: 0.00016, gpu24: 0.00031, gpu80: 0.00116 } as const;

/** Where the doctor talks to, with which key (never printed). */
export interface Conn {
  apiBaseUrl: string;
  endpointBaseUrl: string;
  lbBaseUrl: string;
  key: string;
}

/** The REST v2 client the doctor uses (two attempts per call: a failure is an answer here, not a retry). */
export function restOf(conn: Conn): RunpodRestV2 {
  return new RunpodRestV2(new RunpodHttp(conn.key, { attempts: 2, baseDelayMs: 200 }), conn.apiBaseUrl);
}

/** A call whose refusal is an answer: the status and Runpod's words, or the value. */
export async function attempt<T>(run: () => Promise<T>): Promise<{ value?: T; status?: number; error?: string }> {
  try {
    return { value: await run() };
  } catch (error) {
    const status = error instanceof RunpodApiError ? error.status : 0;
    return { status, error: (error as Error).message };
  }
}

/** Seconds with one decimal. */
export const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** Dollars, with four decimals under a cent. */
export const usd = (x: number) => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(2)}`;

/** What the doctor created and still has to remove. */
export interface DoctorCreated {
  endpoints: Set<string>;
  volumes: Set<string>;
  /** Flash apps (deleting one deletes its environments and builds). */
  apps: Set<string>;
}

/** An empty record of what was created. */
export function nothingCreated(): DoctorCreated {
  return { endpoints: new Set(), volumes: new Set(), apps: new Set() };
}

/**
 * Whatever a failed or interrupted run left behind: delete it (best effort, with a list of what remains). Endpoints
 * a deploy was creating when it stopped are found by name (every name the doctor gives carries its tag).
 */
export async function emergencyTeardown(conn: Conn, created: DoctorCreated, tag: string): Promise<void> {
  const rest = restOf(conn);
  const named = await rest.listEndpoints().catch(() => []);
  for (const e of named) if (e.name.includes("flash_doctor") && e.name.includes(tag)) created.endpoints.add(e.id);
  const apps = async () => {
    const { RunpodGraphql } = await import("../runpod/graphql");
    const { FlashAppClient } = await import("../deploy/flash-app-client");
    return new FlashAppClient(new RunpodGraphql(new RunpodHttp(conn.key), conn.apiBaseUrl));
  };
  // The deploy steps' app, created before its id could be recorded.
  const app = await (await apps()).appByName(`flash_doctor_${tag}`).catch(() => undefined);
  if (app) created.apps.add(app.id);
  if (!created.endpoints.size && !created.volumes.size && !created.apps.size) return;
  const left: string[] = [];
  for (const id of created.endpoints) {
    await rest
      .deleteEndpoint(id)
      .catch((error: Error) => left.push(`endpoint ${id} (${redact(error.message, conn.key)})`));
  }
  created.endpoints.clear();
  for (const id of created.volumes) {
    await rest.deleteNetworkVolume(id).catch(() => left.push(`network volume ${id} (Storage page of the console)`));
  }
  created.volumes.clear();
  if (created.apps.size) {
    const client = await apps();
    for (const id of created.apps) await client.deleteApp(id).catch(() => left.push(`Flash app ${id}`));
    created.apps.clear();
  }
  for (const name of await removeTemplates(conn, tag, 0)) left.push(`template ${name}`);
  if (left.length) {
    log.error(`left on Runpod: ${left.join(", ")}. Delete them at https://console.runpod.io/serverless`);
  }
}

/**
 * Delete the templates the doctor's endpoints left (Runpod refuses to delete a template for up to 2 minutes after
 * its endpoint's last use: docs sdks/graphql/manage-pod-templates), trying again until `waitMs` has passed; returns
 * the names still there.
 */
export async function removeTemplates(conn: Conn, tag: string, waitMs: number): Promise<string[]> {
  const rest = restOf(conn);
  const until = Date.now() + waitMs;
  for (let pause = 100; ; pause = Math.min(5000, pause * 2)) {
    const ours = (await rest.listTemplates().catch(() => [])).filter(
      (t) => t.name.includes("flash_doctor") && t.name.includes(tag),
    );
    const left: string[] = [];
    for (const t of ours) await rest.deleteTemplate(t.id).catch(() => left.push(t.name));
    if (!left.length || Date.now() + pause > until) return left;
    await Bun.sleep(pause);
  }
}

/** One line of the report. */
export interface Step {
  name: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

/** Runs steps, prints each as it ends (its time, what it found, and what its worker time would cost on a GPU). */
export class StepRunner {
  readonly steps: Step[] = [];
  /** Answers to the platform's open questions, printed at the end. */
  readonly answers: string[] = [];

  constructor(private readonly key: string) {}

  /** Run one step; a failure is reported and recorded, never thrown. `billed`: its time is worker time. */
  async step<T>(
    name: string,
    run: () => Promise<T>,
    detail?: (v: T) => string,
    billed = false,
  ): Promise<T | undefined> {
    const t0 = Date.now();
    try {
      const value = await run();
      const ms = Date.now() - t0;
      const gpu = billed ? `; on a 24 GB GPU ≈ ${usd((ms / 1000) * PRICES.gpu24)}` : "";
      const s: Step = { name, ok: true, ms, detail: `${detail?.(value) ?? ""}${gpu}`.replace(/^; /, "") || undefined };
      this.steps.push(s);
      log.success(`${name} (${fmt(s.ms)})${s.detail ? `: ${s.detail}` : ""}`);
      return value;
    } catch (error) {
      const s: Step = { name, ok: false, ms: Date.now() - t0, detail: redact((error as Error).message, this.key) };
      this.steps.push(s);
      log.error(`${name} (${fmt(s.ms)}): ${s.detail}`);
      return undefined;
    }
  }
}

/**
 * The user code the doctor calls through flash's own client: functions on a queue and a load-balanced endpoint
 * that report where they ran, a generator for the stream step, a function on an always-on queue worker for the
 * idle step, and one on the default GPU image (created only when the GPU step runs: endpoints are made on first use).
 */
export function doctorModule(tag: string): string {
  return `import { CpuLiveLoadBalancer, CpuLiveServerless, GpuGroup, LiveServerless, remote } from "flash";

const queue = new CpuLiveServerless({ name: "flash_doctor_q_${tag}", workersMin: 0, workersMax: 1, idleTimeout: 5 });
const lb = new CpuLiveLoadBalancer({ name: "flash_doctor_lb_${tag}", workersMin: 0, workersMax: 1, idleTimeout: 5 });
export const idleConfig = new CpuLiveServerless({ name: "flash_doctor_idle_${tag}", workersMin: 1, workersMax: 1, idleTimeout: 5 });
export const gpuConfig = new LiveServerless({ name: "flash_doctor_gpu_${tag}", gpus: [GpuGroup.AMPERE_16], workersMin: 0, workersMax: 1, idleTimeout: 5 });

/** Names (never values) of the platform's variables, so the doctor can say what a worker is given. */
function platformVars() {
  return Object.keys(process.env).filter((k) => k.startsWith("RUNPOD_") || k.startsWith("PORT")).sort();
}

export const queueCall = remote(queue, async (x: { n: number }) => ({ doubled: x.n * 2, bun: Bun.version, vars: platformVars() }));
export const lbCall = remote(lb, async (x: { n: number }) => ({ doubled: x.n * 2, bun: Bun.version, vars: platformVars() }), {
  method: "POST",
  path: "/double",
});

/** Three small chunks, then one of about 1.5 MB (Runpod takes at most 1 MB per streamed chunk). */
export const streamCall = remote(queue, async function* (x: { big: number }) {
  for (let i = 1; i <= 3; i++) yield { i, text: "small" };
  yield { i: 4, text: "x".repeat(x.big) };
});

export const idleCall = remote(idleConfig, async (x: { n: number }) => ({ doubled: x.n * 2 }));

/**
 * When this container started and when Bun was written into it (the GPU image has no Bun: the start command
 * downloads it). Container start: PID 1's start (on Runpod the start command is PID 1, exec'd into Bun), or, under
 * the emulator, its container folder's creation.
 */
export const gpuCall = remote(gpuConfig, async () => {
  const { readFileSync, statSync } = await import("node:fs");
  const root = process.env.FLASH_CONTAINER_ROOT;
  let startedAt;
  if (root) startedAt = statSync(root).birthtimeMs || statSync(root).ctimeMs;
  else {
    const ticks = Number(readFileSync("/proc/1/stat", "utf8").split(") ")[1].split(" ")[19]);
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    startedAt = Date.now() - (uptime - ticks / 100) * 1000;
  }
  const bunAt = statSync(process.execPath).mtimeMs;
  return { now: Date.now(), startedAt, bunAt, bun: Bun.version };
});
`;
}
