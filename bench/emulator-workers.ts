/**
 * Workers that are not flash's, on the emulator: for a Bun worker and a Python worker (standard library) that speak
 * Runpod's worker protocol, the time from the worker process starting to its first finished job (attach + first
 * job-take + job-done), and the warm `/runsync` round trip (p50/p99) through the emulator.
 *
 *   bun bench/emulator-workers.ts [--jobs 50]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { setLogLevel } from "../core/base/log";
import { startEmulator } from "../core/emulator/server";
import { percentile } from "./lib/stats";

const { values } = parseArgs({ options: { jobs: { type: "string", default: "50" } } });
const JOBS = Number(values.jobs);
setLogLevel("quiet");

const key = `bench_${crypto.randomUUID()}`;
const em = startEmulator({ apiKey: key, takeHoldMs: 5000 });
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const fixtures = resolve(import.meta.dir, "../test/fixtures/runpod");
const workers: { name: string; argv: string[]; input: unknown }[] = [
  {
    name: "Bun (protocol-worker.ts)",
    argv: [process.execPath, `${fixtures}/protocol-worker.ts`],
    input: { mode: "echo", value: 1 },
  },
];
if (Bun.which("python3")) {
  workers.push({
    name: "Python 3 stdlib (protocol_worker.py)",
    argv: ["python3", `${fixtures}/protocol_worker.py`],
    input: { name: "b" },
  });
}

async function endpoint(image: string): Promise<string> {
  const res = await fetch(`${em.apiBaseUrl}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      query: "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }",
      variables: {
        input: {
          name: image,
          template: { imageName: image, containerDiskInGb: 10, env: [] },
          instanceIds: ["cpu3c-2-4"],
        },
      },
    }),
  });
  return ((await res.json()) as any).data.saveEndpoint.id;
}

async function runsync(id: string, input: unknown): Promise<any> {
  const res = await fetch(`${em.endpointBaseUrl}/${id}/runsync`, {
    method: "POST",
    headers,
    body: JSON.stringify({ input }),
  });
  return res.json();
}

console.log(`emulator workers bench (${JOBS} warm jobs each)`);
for (const w of workers) {
  const id = await endpoint(`bench/${w.name.split(" ")[0]!.toLowerCase()}:1`);
  const env = ((await (await fetch(`${em.url}/emulator/endpoints/${id}/worker-env`, { headers })).json()) as any).env;
  const t0 = performance.now();
  const proc = Bun.spawn(w.argv, { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "ignore", stderr: "ignore" });
  const first = await runsync(id, w.input);
  const cold = performance.now() - t0;
  if (first.status !== "COMPLETED") throw new Error(`${w.name}: first job ${JSON.stringify(first)}`);
  const warm: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const s = performance.now();
    await runsync(id, w.input);
    warm.push(performance.now() - s);
  }
  console.log(
    `  ${w.name.padEnd(38)} start → first job done ${cold.toFixed(0).padStart(5)} ms   ` +
      `warm /runsync p50 ${percentile(warm, 50).toFixed(1)} ms  p99 ${percentile(warm, 99).toFixed(1)} ms`,
  );
  proc.kill();
  await proc.exited;
}
// The peer: how long the interpreters take to start and exit doing nothing, on this machine in this run.
for (const [name, argv] of [
  ["bun -e ''", [process.execPath, "-e", ""]],
  ...(Bun.which("python3") ? [["python3 -c pass", ["python3", "-c", "pass"]]] : []),
] as [string, string[]][]) {
  const t0 = performance.now();
  await Bun.spawn(argv, { stdout: "ignore", stderr: "ignore" }).exited;
  console.log(`  peer: ${name.padEnd(32)} ${(performance.now() - t0).toFixed(0).padStart(5)} ms`);
}
await em.stop();
