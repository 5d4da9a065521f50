/** `SHA256SUMS` in the format of GNU `sha256sum` (`<hex>  <name>`), which `sha256sum -c` and `shasum -a 256 -c` read. */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

/** The SHA-256 of a file, in hex. */
export function sha256File(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** Write `SHA256SUMS` for these files (named by their base names, sorted); returns the file's text. */
export function writeChecksums(sumsFile: string, files: string[]): string {
  const lines = files
    .map((f) => `${sha256File(f)}  ${basename(f)}`)
    .sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
  const text = `${lines.join("\n")}\n`;
  writeFileSync(sumsFile, text);
  return text;
}

/** Parse a `SHA256SUMS` file into name → hex. */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) sums.set(m[2]!, m[1]!);
  }
  return sums;
}
