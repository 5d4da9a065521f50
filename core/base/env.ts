import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "dotenv";

/** Load `.env` files (workspace root first, then cwd) into process.env without overriding variables already set. */
export function loadDotEnv(dirs: string[]): string[] {
  const loaded: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    const file = join(dir, ".env");
    if (!existsSync(file)) continue;
    const vars = parse(readFileSync(file));
    for (const [key, value] of Object.entries(vars)) {
      if (process.env[key] === undefined) process.env[key] = value;
    }
    loaded.push(file);
  }
  return loaded;
}

/** Where `flash run` listens. */
export interface ListenSettings {
  host: string;
  port: number;
}

/** Resolve host and port: flag, then FLASH_HOST/FLASH_PORT (env or .env), then localhost:8888. Throws on a bad port. */
export function listenSettings(flags: { host?: string; port?: string | number }): ListenSettings {
  const host = flags.host || process.env.FLASH_HOST || "localhost";
  const rawPort = flags.port ?? process.env.FLASH_PORT ?? "8888";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Invalid port "${rawPort}": expected an integer from 0 to 65535 (0 picks a free port)`);
  }
  return { host, port };
}
