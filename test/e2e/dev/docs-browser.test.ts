import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../../core/app/app";
import { startServer, type FlashServer } from "../../../core/dev/server";
import { makeWorkspace, removeDir, workerSource } from "../../helpers/workspace";

const chromium = Bun.which("chromium") ?? Bun.which("chromium-browser") ?? Bun.which("google-chrome");
const ws = makeWorkspace({
  "01_cat/01_one/cpu_worker.ts": workerSource("cpu"),
  "02_other/01_two/gpu_worker.ts": workerSource("gpu"),
});
let server: FlashServer;
beforeAll(async () => {
  server = startServer(await buildApp({ root: ws }), "127.0.0.1", 0);
});
afterAll(async () => {
  await server.stop();
  removeDir(ws);
});

/**
 * Load a page in headless Chromium (no network beyond loopback) and return the DOM after scripts ran.
 * Async on purpose: the server under test runs in this process, so a blocking spawn would starve it.
 */
async function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "flash-chromium-"));
  try {
    const proc = Bun.spawn(
      [
        chromium!,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
      ],
      { stdout: "pipe", stderr: "ignore", timeout: 60_000 },
    );
    const dom = await new Response(proc.stdout).text();
    await proc.exited;
    return dom;
  } finally {
    removeDir(profile);
  }
}

describe("docs in a real browser", () => {
  test.skipIf(!chromium)(
    "headless Chromium renders /docs offline and lists every operation",
    async () => {
      const dom = await renderedDom(`${server.url}/docs`);
      expect(dom).toContain("swagger-ui");
      for (const path of ["/01_cat/01_one/cpu/hello", "/01_cat/01_one/cpu/echo", "/02_other/01_two/gpu/echo"]) {
        expect(dom).toContain(`data-path="${path}"`);
      }
      expect(dom).toContain("01 Cat &gt; 01 One");
    },
    90_000,
  );
});
