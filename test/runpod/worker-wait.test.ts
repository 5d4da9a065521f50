/**
 * A call that waits for a worker says so in the log: one line when the wait begins (after `showWaitAfterMs`), the
 * reason from the endpoint's health while it lasts, and one line with the duration when a worker takes the job.
 * Real HTTP against the emulator, whose worker takes `coldStartMs` to start (the image pull and boot of Runpod).
 */
import { afterAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { LogObject } from "consola";
import { log } from "../../core/base/log";
import { startEmulator } from "../../core/emulator/server";
import { RunpodHttp } from "../../core/runpod/http";
import { RunpodJobs } from "../../core/runpod/jobs";
import { saveEndpoint } from "../helpers/emulator";

const KEY = "rpa_worker_wait_test_key_00000000000";
const PROTOCOL_WORKER = resolve(import.meta.dir, "../fixtures/runpod/protocol-worker.ts");
const COLD_START_MS = 1000;

const emulator = startEmulator({
  apiKey: KEY,
  takeHoldMs: 500,
  workers: { images: { "myorg/slow:1": [process.execPath, PROTOCOL_WORKER] }, coldStartMs: COLD_START_MS },
});
afterAll(() => emulator.stop());

test("a job waiting through a cold start logs when the wait begins, why, and how long it lasted", async () => {
  const id = await saveEndpoint(emulator.apiBaseUrl, KEY, {
    name: "slow",
    template: { name: "slow-tpl", imageName: "myorg/slow:1", containerDiskInGb: 10, env: [] },
    instanceIds: ["cpu3c-2-4"],
  });
  const lines: string[] = [];
  const saved = log.options.reporters;
  log.setReporters([{ log: (e: LogObject) => void lines.push(e.args.map(String).join(" ")) }]);
  try {
    const jobs = new RunpodJobs(
      new RunpodHttp(KEY),
      { apiBaseUrl: emulator.apiBaseUrl, endpointBaseUrl: emulator.endpointBaseUrl, lbBaseUrl: emulator.lbBaseUrl },
      { showWaitAfterMs: 0, explainAfterMs: 100 },
    );
    const job = await jobs.submitAndWait(
      id,
      { mode: "echo", value: "cold" },
      { mode: "poll", signal: new AbortController().signal },
    );
    expect(job.status).toBe("COMPLETED");
  } finally {
    log.setReporters(saved);
  }
  const ours = lines.filter((l) => l.startsWith("job "));
  expect(ours[0]).toMatch(/^job [\w-]+: waiting for a worker \(IN_QUEUE\)$/);
  expect(ours).toContainEqual(
    expect.stringMatching(/^job [\w-]+ waiting \d+ s: 1 worker is starting \(cold start: image pull and boot\)$/),
  );
  const end = ours.at(-1)!;
  expect(end).toMatch(/^job [\w-]+: a worker took it after \d+\.\d s$/);
  expect(Number(/after (\d+\.\d) s/.exec(end)![1]) * 1000).toBeGreaterThanOrEqual(COLD_START_MS - 100);
  // One begin line and one end line per wait, whatever the number of polls.
  expect(ours.filter((l) => l.includes("a worker took it"))).toHaveLength(1);
  expect(ours.filter((l) => l.endsWith("(IN_QUEUE)"))).toHaveLength(1);
}, 20_000);
