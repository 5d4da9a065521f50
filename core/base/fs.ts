import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Write a file atomically: write a temporary sibling, then rename it over the target, so a crash or a concurrent
 * reader never sees a half-written manifest or lockfile. Creates the parent folders.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** sha256 of `data` as hex, cut to `length` characters (content addresses and config hashes). */
export function shortHash(data: string | Uint8Array, length = 16): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex").slice(0, length);
}
