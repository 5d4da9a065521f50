/**
 * The artifact upload is sent again when the connection fails (as runpod/flash's `_upload_tarball` retries
 * connection errors and timeouts), and not when the storage answers with an HTTP error. Real sockets: a stand-in
 * for Runpod's GraphQL that hands out a presigned URL, and a storage server that drops its first connection.
 */
import { afterEach, expect, test } from "bun:test";
import { FlashAppClient } from "../../core/deploy/flash-app-client";
import { RunpodGraphql } from "../../core/runpod/graphql";
import { RunpodHttp } from "../../core/runpod/http";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** A storage server: the first `drop` connections are closed unanswered, later ones get `status`. */
function storage(drop: number, status: number) {
  let connections = 0;
  const server = Bun.listen<{ n: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { n: ++connections };
      },
      data(socket) {
        if (socket.data.n <= drop) return void socket.end();
        socket.end(`HTTP/1.1 ${status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      },
    },
  });
  stops.push(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/up`, connections: () => connections };
}

/** Runpod's Flash app GraphQL as the upload uses it: prepare (the presigned URL), then finalize. */
function control(uploadUrl: string) {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const { query } = (await req.json()) as { query: string };
      if (query.includes("prepareFlashArtifactUpload"))
        return Response.json({ data: { prepareFlashArtifactUpload: { uploadUrl, objectKey: "k", expiresAt: "" } } });
      return Response.json({ data: { finalizeFlashArtifactUpload: { id: "build-1", manifest: {} } } });
    },
  });
  stops.push(() => server.stop(true));
  return `http://127.0.0.1:${server.port}`;
}

const artifact = new Uint8Array([1, 2, 3, 4]);

test("a dropped connection is retried and the upload then succeeds", async () => {
  const s = storage(1, 200);
  const apps = new FlashAppClient(new RunpodGraphql(new RunpodHttp("k"), control(s.url)), { baseDelayMs: 5 });
  expect(await apps.uploadBuild("app", artifact, {})).toBe("build-1");
  expect(s.connections()).toBe(2);
});

test("an HTTP error from the storage is not retried; connections that keep failing give up after 3 attempts", async () => {
  const refused = storage(0, 403);
  const a = new FlashAppClient(new RunpodGraphql(new RunpodHttp("k"), control(refused.url)), { baseDelayMs: 5 });
  await expect(a.uploadBuild("app", artifact, {})).rejects.toThrow("artifact upload failed: HTTP 403");
  const dead = storage(99, 200);
  const b = new FlashAppClient(new RunpodGraphql(new RunpodHttp("k"), control(dead.url)), { baseDelayMs: 5 });
  await expect(b.uploadBuild("app", artifact, {})).rejects.toThrow("artifact upload failed after 3 attempts");
  expect(dead.connections()).toBe(3);
  expect(refused.connections()).toBe(1);
});
