import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parse } from "dotenv";
import { setting } from "./settings";

/** The variables a `.env` file set (not the shell), with their values: a reload may change or remove them. */
const fromFiles = new Map<string, string>();

/**
 * Load `.env` files (workspace root first, then cwd) into process.env without overriding variables already set
 * (by the shell, or by an earlier file). Throws a one-line error when one cannot be read.
 */
export function loadDotEnv(dirs: string[]): string[] {
  const loaded: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    const file = join(dir, ".env");
    if (!existsSync(file)) continue;
    const vars = parse(readDotEnv(file));
    for (const [key, value] of Object.entries(vars)) {
      // Bun itself loads the cwd's .env before flash starts: a variable already holding the file's value came from it.
      if (process.env[key] === value) fromFiles.set(key, value);
      if (process.env[key] !== undefined) continue;
      process.env[key] = value;
      fromFiles.set(key, value);
    }
    loaded.push(file);
  }
  return loaded;
}

/**
 * Read the `.env` files again after an edit: what they set before is removed (unless something else changed it
 * since), then they are loaded as at start. Variables set in the shell keep their values.
 */
export function reloadDotEnv(dirs: string[]): string[] {
  for (const [key, value] of fromFiles) if (process.env[key] === value) delete process.env[key];
  fromFiles.clear();
  return loadDotEnv(dirs);
}

/**
 * The variables of the `.env` of each example folder (`NN_category/NN_example/.env`) holding one of `files` (a
 * pool's modules), for its remote functions' workers: they override the root `.env`, never the shell. A file that
 * cannot be read is skipped (the root `.env` reports unreadable files at start).
 */
export function exampleDotEnv(files: Iterable<string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const dir of new Set([...files].map(exampleDirOf))) {
    if (!dir) continue;
    let vars: Record<string, string>;
    try {
      vars = parse(readFileSync(join(dir, ".env")));
    } catch {
      continue;
    }
    for (const [key, value] of Object.entries(vars)) {
      if (process.env[key] === undefined || fromFiles.has(key)) env[key] ??= value;
    }
  }
  return env;
}

/** A category or example folder name (workspace/names.ts's NUMBERED; base imports nothing of the workspace's). */
const NUMBERED = /^[0-9]{2}_[^/\\]+$/;

/** The example folder a module lies in: the nearest ancestor named `NN_…` whose parent is named `NN_…` too. */
function exampleDirOf(file: string): string | undefined {
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    if (NUMBERED.test(basename(dir)) && NUMBERED.test(basename(dirname(dir)))) return dir;
  }
  return undefined;
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
