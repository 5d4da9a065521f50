/**
 * `flash upgrade`: replace this binary with the release's, verified against the release's `SHA256SUMS` (the file
 * `scripts/release/checksums.ts` writes in GNU `sha256sum` format), as the install lines in the README verify it.
 * The new binary is written beside the old one and renamed over it, so a failed download never leaves half a binary.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where releases are published (`<base>/<asset>`, `<base>/SHA256SUMS`); FLASH_RELEASE_URL overrides it. */
export const DEFAULT_RELEASE_URL = "https://github.com/flash-sh/flash/releases/latest/download";

/** This platform's release asset: `flash-linux-x64`, `flash-darwin-arm64`, `flash-windows-x64.exe` (+ `-baseline`). */
export function platformAsset(baseline = false): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `flash-${os}-${process.arch}${baseline ? "-baseline" : ""}${process.platform === "win32" ? ".exe" : ""}`;
}

/** What an upgrade did. */
export type UpgradeResult = { status: "upgraded" | "current"; sha256: string };

async function download(url: string, timeoutMs: number): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Download `asset` and `SHA256SUMS` from `baseUrl`, refuse the binary unless its SHA-256 is the one listed, then
 * replace `binary` with it (mode 755). Throws a one-line reason; `binary` is untouched on any failure.
 */
export async function upgradeBinary(opts: {
  baseUrl: string;
  asset: string;
  binary: string;
  timeoutMs?: number;
}): Promise<UpgradeResult> {
  const base = opts.baseUrl.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const sums = new TextDecoder().decode(await download(`${base}/SHA256SUMS`, timeoutMs));
  const listed = sums
    .split("\n")
    .map((l) => /^([0-9a-f]{64}) [ *](.+)$/.exec(l.trim()))
    .find((m) => m?.[2] === opts.asset)?.[1];
  if (!listed) throw new Error(`SHA256SUMS of ${base} lists no ${opts.asset}: nothing changed`);
  const current = existsSync(opts.binary)
    ? new Bun.CryptoHasher("sha256").update(readFileSync(opts.binary)).digest("hex")
    : "";
  if (current === listed) return { status: "current", sha256: listed };
  const bytes = await download(`${base}/${opts.asset}`, timeoutMs);
  const actual = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  if (actual !== listed) {
    throw new Error(
      `${opts.asset} does not match SHA256SUMS (expected ${listed.slice(0, 12)}…, got ${actual.slice(0, 12)}…): refused, nothing changed`,
    );
  }
  const tmp = join(dirname(opts.binary), `.flash-upgrade-${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes, { mode: 0o755 });
    chmodSync(tmp, 0o755);
    renameSync(tmp, opts.binary);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { status: "upgraded", sha256: listed };
}
