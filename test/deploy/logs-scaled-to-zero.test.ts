/**
 * `flash logs` once an endpoint scaled to zero: Runpod lists only active workers, but a gone worker's log is still
 * served by its id, so the command shows the last workers it saw; with none seen, it says what to do next. Real
 * HTTP against the emulator (its worker stops after its idle timeout, shortened), `flash logs` as a subprocess.
 */
import { afterAll, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { startEmulator } from "../../core/emulator/server";
import { until } from "../fixtures/runpod/harness";
import { collectOutput, makeWorkspace, REPO, removeDir } from "../helpers/workspace";

const KEY = "rpa_logs_zero_test_key_0000000000000";
const PROTOCOL_WORKER = resolve(import.meta.dir, "../fixtures/runpod/protocol-worker.ts");
const emulator = startEmulator({
  apiKey: KEY,
  takeHoldMs: 200,
  workers: {
    images: { "myorg/logs:1": [process.execPath, PROTOCOL_WORKER] },
    idleSecondMs: 20,
    tickMs: 20,
  },
});
const dirs: string[] = [];
afterAll(async () => {
  await emulator.stop();
  for (const d of dirs) removeDir(d);
});

/** `flash logs <args>` in `cwd` against the emulator, piped (JSON Lines): exit code, stdout, stderr. */
async function flashLogs(cwd: string, args: string[]) {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "logs", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", FLASH_RUNPOD_URL: emulator.url, RUNPOD_API_KEY: KEY },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, lines: out.trim().split("\n").filter(Boolean), err };
}

async function api(path: string, body?: unknown) {
  const res = await fetch(`${emulator.apiBaseUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as any;
}

test("after scale-to-zero flash logs shows the last workers it saw, and says what to do when it saw none", async () => {
  const saved = await api("/graphql", {
    query: "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }",
    variables: {
      input: {
        name: "logs-zero",
        template: { name: "logs-zero-tpl", imageName: "myorg/logs:1", containerDiskInGb: 10, env: [] },
        instanceIds: ["cpu3c-2-4"],
        idleTimeout: 1,
      },
    },
  });
  const id: string = saved.data.saveEndpoint.id;
  // A long job keeps its worker active while flash logs lists it.
  const job = await api(`/v2/${id}/run`, { input: { mode: "sleep", value: 60_000 } });
  await until(() => emulator.store.jobs.get(job.id)?.status === "IN_PROGRESS", 15_000, "the job to start");
  const [worker] = emulator.supervisor.alive(id);
  const ws = makeWorkspace();
  dirs.push(ws);
  const first = await flashLogs(ws, [id]);
  expect(first.code).toBe(0);
  expect(first.lines.map((l) => JSON.parse(l))).toContainEqual(
    expect.objectContaining({ source: "system", line: "create container logs-zero", workerId: worker!.id }),
  );

  // Scale to zero: the job ends, the worker idles past its timeout and stops; the listing is empty.
  await api(`/v2/${id}/cancel/${job.id}`, {});
  await until(() => emulator.supervisor.alive(id).length === 0, 15_000, "scale-to-zero");
  expect((await api(`/v2/serverless/${id}/workers`)).workers).toEqual([]);

  const after = await flashLogs(ws, [id]);
  expect(after.code).toBe(0);
  expect(after.err).toContain(
    `endpoint ${id} has no active workers (scaled to zero): showing the logs of the 1 worker(s)`,
  );
  const entries = after.lines.map((l) => JSON.parse(l));
  expect(entries.every((e) => e.workerId === worker!.id)).toBe(true);
  expect(entries.at(-1)).toMatchObject({
    source: "system",
    line: expect.stringMatching(/^container exited with code/),
  });

  // A workspace that never saw a worker of this endpoint: one line with the next steps, exit 1.
  const fresh = makeWorkspace();
  dirs.push(fresh);
  const none = await flashLogs(fresh, [id]);
  expect(none.code).toBe(1);
  expect(none.lines).toEqual([]);
  expect(none.err).toContain(`endpoint ${id} has no active workers: it scaled to zero`);
  expect(none.err).toContain("flash logs --follow");
  expect(none.err).toContain("--worker ID");
}, 60_000);

test("flash logs --follow on an endpoint with no worker waits for one, then streams it; Ctrl+C ends it", async () => {
  const saved = await api("/graphql", {
    query: "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }",
    variables: {
      input: {
        name: "logs-follow",
        template: { name: "logs-follow-tpl", imageName: "myorg/logs:1", containerDiskInGb: 10, env: [] },
        instanceIds: ["cpu3c-2-4"],
        // The worker stays up until the emulator stops: with 1 s it could come and go between two looks of a slow
        // `flash logs` on a loaded machine, and --follow streams active workers only.
        idleTimeout: 600,
      },
    },
  });
  const id: string = saved.data.saveEndpoint.id;
  const ws = makeWorkspace();
  dirs.push(ws);
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "logs", id, "--follow", "--poll", "50ms"], {
    cwd: ws,
    env: { ...process.env, NO_COLOR: "1", FLASH_RUNPOD_URL: emulator.url, RUNPOD_API_KEY: KEY },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = collectOutput(proc);
  await until(() => output().includes("no active worker: waiting for one to start"), 15_000, "the wait line");
  const done = await api(`/v2/${id}/runsync`, { input: { mode: "echo", value: "hi" } });
  expect(done.status).toBe("COMPLETED");
  await until(() => output().includes('"line":"create container logs-follow"'), 15_000, "the new worker's lines");
  expect(output()).toMatch(/worker \w+ started after [\d.]+ s/);
  proc.kill("SIGINT");
  expect(await proc.exited).toBe(0);
}, 60_000);
