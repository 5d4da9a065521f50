/**
 * The user's Runpod API key where Runpod's own tools keep it. Order as runpod/flash (`core/credentials.py`):
 * `RUNPOD_API_KEY` from the environment (a `.env` is loaded into it without overriding), then the `api_key` of the
 * `[default]` profile in `~/.runpod/config.toml`, the file runpod-python's `runpod config` and Python flash's
 * `flash login` write (runpod-python `runpod/cli/groups/config/functions.py`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** The profile runpod-python reads and writes unless told otherwise. */
const DEFAULT_PROFILE = "default";

/** `~/.runpod/config.toml` (HOME first, as Python's `expanduser`). */
export function credentialsFile(env: Record<string, string | undefined> = process.env): string {
  return join(env.HOME || homedir(), ".runpod", "config.toml");
}

function readConfig(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    return Bun.TOML.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file} is not valid TOML (${(err as Error).message}): fix it or run flash login again`);
  }
}

/** The key of a profile in `~/.runpod/config.toml`, or undefined. */
function configApiKey(env: Record<string, string | undefined> = process.env): string | undefined {
  const section = readConfig(credentialsFile(env))[DEFAULT_PROFILE] as Record<string, unknown> | undefined;
  const key = section?.api_key;
  return typeof key === "string" && key.trim() ? key.trim() : undefined;
}

/** Where the key in use comes from, for messages (never the key itself). */
export type KeySource = "environment" | "config";

/** The user's API key and where it was found; undefined when neither the environment nor the file has one. */
export function findApiKey(
  env: Record<string, string | undefined> = process.env,
): { key: string; source: KeySource } | undefined {
  const fromEnv = env.RUNPOD_API_KEY?.trim();
  if (fromEnv) return { key: fromEnv, source: "environment" };
  const fromFile = configApiKey(env);
  return fromFile ? { key: fromFile, source: "config" } : undefined;
}

/** A TOML basic string. */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

/**
 * Save `key` as the `[default]` profile's `api_key` in `~/.runpod/config.toml` (mode 0600, as runpod/flash's
 * `save_api_key`). Unlike runpod-python, which rewrites the file with one profile, other profiles' string, number
 * and boolean values are kept. Returns the file's path.
 */
export function saveApiKey(key: string, env: Record<string, string | undefined> = process.env): string {
  const file = credentialsFile(env);
  const config = readConfig(file);
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const [name, section] of Object.entries(config)) {
    if (section && typeof section === "object") profiles[name] = section as Record<string, unknown>;
  }
  profiles[DEFAULT_PROFILE] = { ...profiles[DEFAULT_PROFILE], api_key: key };
  const lines: string[] = [];
  for (const [name, section] of Object.entries(profiles)) {
    lines.push(`[${name}]`);
    for (const [k, v] of Object.entries(section)) {
      if (typeof v === "string") lines.push(`${k} = ${tomlString(v)}`);
      else if (typeof v === "number" || typeof v === "boolean") lines.push(`${k} = ${v}`);
    }
    lines.push("");
  }
  // Written with mode 0600 from the start (then renamed into place), so the key is never readable by others.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, lines.join("\n"), { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}
