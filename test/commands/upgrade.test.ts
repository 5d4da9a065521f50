/**
 * `flash upgrade` against a release folder served locally: the binary is replaced by the release's when its
 * SHA-256 matches SHA256SUMS, and a tampered asset is refused with the file left as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { platformAsset } from "../../core/base/upgrade";
import { REPO } from "../helpers/workspace";

const ASSET = platformAsset();
let tmp: string;
let release: string;
let server: ReturnType<typeof Bun.serve>;

const sha = (data: string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

/** Publish `content` as this platform's asset, listed in SHA256SUMS with `listed`'s hash. */
function publish(content: string, listed = content): void {
  writeFileSync(join(release, ASSET), content);
  writeFileSync(join(release, "SHA256SUMS"), `${sha("other")}  flash-other-x64\n${sha(listed)}  ${ASSET}\n`);
}

async function upgrade(binary: string): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn([process.execPath, join(REPO, "cli.ts"), "upgrade", "--from", server.url.href], {
    env: { ...process.env, NO_COLOR: "1", FLASH_UPGRADE_BINARY: binary },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out + err };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-upgrade-"));
  release = join(tmp, "release");
  mkdirSync(release);
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => {
      const file = Bun.file(join(release, new URL(req.url).pathname.slice(1)));
      return file.size ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
});
afterAll(() => {
  server.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

describe("flash upgrade", () => {
  test("replaces the binary with the release's verified asset; a second run finds it current", async () => {
    const binary = join(tmp, "flash-a");
    writeFileSync(binary, "old binary");
    publish("new binary v2");
    const r = await upgrade(binary);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`upgraded ${binary} to the release's ${ASSET}`);
    expect(readFileSync(binary, "utf8")).toBe("new binary v2");
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    const again = await upgrade(binary);
    expect(again.code).toBe(0);
    expect(again.out).toContain("is already the release's");
  });

  test("refuses a tampered asset and leaves the binary as it was", async () => {
    const binary = join(tmp, "flash-b");
    writeFileSync(binary, "old binary");
    publish("tampered binary", "the binary that was signed off");
    const r = await upgrade(binary);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${ASSET} does not match SHA256SUMS`);
    expect(readFileSync(binary, "utf8")).toBe("old binary");
  });

  test("from source, without a binary to replace, it says how to update instead", async () => {
    const proc = Bun.spawnSync([process.execPath, join(REPO, "cli.ts"), "upgrade"], {
      env: { ...process.env, NO_COLOR: "1", FLASH_UPGRADE_BINARY: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(proc.exitCode).toBe(1);
    expect(proc.stdout.toString() + proc.stderr.toString()).toContain("git pull");
  });
});
