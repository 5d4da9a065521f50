import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "dotenv";
import { setting } from "./settings";

/**
 * Load `.env` files (workspace root first, then cwd) into process.env without overriding variables already set.
 * Throws a one-line error when one cannot be read.
 */
export function loadDotEnv(dirs: string[]): string[] {
  const loaded: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    const file = join(dir, ".env");
    if (!existsSync(file)) continue;
    const vars = parse(readDotEnv(file));
    for (const [key, value] of Object.entries(vars)) {
      if (process.env[key] === undefined) process.env[key] = value;
    }
    loaded.push(file);
  }
  return loaded;
}

function readDotEnv(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === "EISDIR") throw new Error(`${file} is a directory; .env must be a file of KEY=value lines`);
    throw new Error(`cannot read ${file}: ${e?.message ?? err}`);
  }
}

/** Where `flash run` listens, and the largest request body it accepts. */
export interface ListenSettings {
  host: string;
  port: number;
  /** Bodies over this many bytes get a 413 (FLASH_MAX_BODY / --max-body). */
  maxBodyBytes: number;
}

/** Default request body limit: far above any example's input, far below what stalls a worker call (32 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Parse a byte size: `1048576`, `512k`, `32MiB`, `10mb` (k/m/g alone are binary units). Throws on anything else. */
function parseByteSize(raw: string | number, what = "size"): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(raw));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw new Error(`Invalid ${what} "${raw}": expected a positive number of bytes, like 1048576, 512KiB or 32MiB`);
  }
  return Math.floor(Number(m[1]) * unit);
}

/**
 * Resolve host, port and body limit: flag, then FLASH_HOST/FLASH_PORT/FLASH_MAX_BODY (env or .env), then
 * localhost:8888 and 32 MiB. Throws on a bad port or size.
 */
export function listenSettings(flags: {
  host?: string;
  port?: string | number;
  maxBody?: string | number;
}): ListenSettings {
  const host = flags.host || setting("FLASH_HOST")!;
  const rawPort = flags.port ?? setting("FLASH_PORT")!;
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Invalid port "${rawPort}": expected an integer from 0 to 65535 (0 picks a free port)`);
  }
  const maxBodyBytes = parseByteSize(flags.maxBody || setting("FLASH_MAX_BODY")!, "body limit");
  return { host, port, maxBodyBytes };
}
