/**
 * The artifact upload reports bytes, rate and ETA as it goes, and gives up on a stalled storage after a timeout that
 * grows with the artifact's size. Real sockets: the emulator's presigned upload URL for a multi-MB artifact, and a
 * storage server that stops reading after the first bytes.
 */
import { afterAll, expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { transferProgress } from "../../core/base/progress";
import { FlashAppClient, uploadTimeoutMs } from "../../core/deploy/flash-app-client";
import { emulatorKey, startEmulator } from "../../core/emulator/server";
import { RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";

const stops: (() => void)[] = [];
afterAll(() => {
  for (const stop of stops.splice(0)) stop();
});

/** `bytes` of incompressible gzip (the emulator checks the gzip header when the build is finalized). */
function artifactOf(bytes: number): Uint8Array {
  const raw = new Uint8Array(bytes);
  for (let i = 0; i < raw.length; i += 65_536) crypto.getRandomValues(raw.subarray(i, i + 65_536));
  return Bun.gzipSync(raw, { level: 0 });
}

test("a multi-MB upload to the emulator reports its progress up to 100 % of the right total", async () => {
  const apiKey = emulatorKey();
  const emulator = startEmulator({ apiKey });
  stops.push(() => emulator.stop());
  const apps = new FlashAppClient(new RunpodGraphql(new RunpodHttp(apiKey), emulator.apiBaseUrl));
  const app = await apps.createApp("progress-app");
  const artifact = artifactOf(6 * 1024 * 1024);
  const lines: string[] = [];
  const progress = () =>
    transferProgress("upload", artifact.length, {
      stream: { isTTY: false, write: () => 0 },
      plain: (l) => lines.push(l),
      everyMs: 0,
    });
  const buildId = await apps.uploadBuild(app.id, artifact, { resources: {} }, progress);
  expect(buildId).toBeString();
  expect(lines.length).toBeGreaterThan(3);
  expect(lines[0]).toMatch(/^upload: \d+\.\d KiB \/ 6\.0 MiB \(\d+ %\), [\d.]+ \w+\/s(, ETA .+)?$/);
  expect(lines.at(-1)).toMatch(/^upload: 6\.0 MiB \/ 6\.0 MiB \(100 %\), [\d.]+ \w+\/s, in [\d.]+ s$/);
  // Percentages only grow.
  const pcts = lines.map((l) => Number(/\((\d+) %\)/.exec(l)![1]));
  expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
});

test("a storage that stops reading fails each attempt after the size-scaled timeout, naming size and rate", async () => {
  const sockets: Socket[] = [];
  let connections = 0;
  const storage = createServer((s) => {
    connections++;
    sockets.push(s);
    s.once("data", () => s.pause());
  });
  await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
  stops.push(() => {
    for (const s of sockets) s.destroy();
    storage.close();
  });
  const uploadUrl = `http://127.0.0.1:${(storage.address() as { port: number }).port}/up?X-Amz-Signature=secret`;
  const control = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => Response.json({ data: { prepareFlashArtifactUpload: { uploadUrl, objectKey: "k", expiresAt: "" } } }),
  });
  stops.push(() => control.stop(true));
  const policy = { baseDelayMs: 5, floorMs: 100, minBytesPerSecond: 64 * 1024 * 1024 };
  const artifact = artifactOf(16 * 1024 * 1024);
  const limit = uploadTimeoutMs(artifact.length, policy);
  expect(limit).toBe(350);
  expect(uploadTimeoutMs(2 * artifact.length, policy)).toBe(600);
  const apps = new FlashAppClient(new RunpodGraphql(new RunpodHttp("k"), `http://127.0.0.1:${control.port}`), policy);
  const started = performance.now();
  const err = (await apps.uploadBuild("app", artifact, {}).catch((e) => e)) as Error;
  expect(performance.now() - started).toBeGreaterThanOrEqual(3 * limit - 10);
  expect(connections).toBe(3);
  expect(err.message).toMatch(
    /^artifact upload failed after 3 attempts: timed out after [\d.]+ s with [\d.]+ \w+ of 16\.0 MiB sent \([\d.]+ \w+\/s; an attempt may take 0\.1 s plus the size at 64\.0 MiB\/s\)$/,
  );
  expect(err.message).not.toContain("secret");
});
