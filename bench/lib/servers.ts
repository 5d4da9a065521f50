/** How each contender is started: flash (from source and compiled), the uvicorn peer, and raw Bun.serve. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "./proc";
import { REPO } from "./workspace";

/** The Debian Python that has fastapi/uvicorn (the `python3` on PATH may be a pyenv build without them). */
export const PYTHON = "/usr/bin/python3";
/** The compiled binary made by `bun run build`. */
export const FLASH_BIN = join(REPO, "flash");

/** `bun cli.ts run <dir>`: flash from source. */
export function flashSource(dir: string, watch = false): Command {
  return { argv: ["bun", join(REPO, "cli.ts"), "run", dir, "--host", "127.0.0.1", "--port", "{port}", ...(watch ? ["--watch"] : [])], cwd: dir };
}

/** `./flash run <dir>`: the compiled binary. */
export function flashBinary(dir: string, watch = false): Command {
  return { argv: [FLASH_BIN, "run", dir, "--host", "127.0.0.1", "--port", "{port}", ...(watch ? ["--watch"] : [])], cwd: dir };
}

/** What the Python original's `flash run` runs: `python -m uvicorn main:app … --log-level warning [--reload]`. */
export function uvicorn(pyDir: string, reload = false): Command {
  return {
    argv: [PYTHON, "-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning", ...(reload ? ["--reload"] : [])],
    cwd: pyDir,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  };
}

/** The raw `Bun.serve` ceiling. */
export function rawBun(): Command {
  return { argv: ["bun", join(REPO, "bench", "peer", "raw.ts"), "--port", "{port}"], cwd: REPO };
}

/** Build `./flash` with `bun run build` when it is missing. */
export async function ensureBinary(): Promise<void> {
  if (existsSync(FLASH_BIN)) return;
  console.log("building ./flash (bun run build)…");
  const proc = Bun.spawn(["bun", "run", "build"], { cwd: REPO, stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new Error("bun run build failed");
}

/** Whether the uvicorn peer can run here (Debian python3-fastapi and python3-uvicorn installed). */
export function havePython(): boolean {
  return Bun.spawnSync([PYTHON, "-c", "import fastapi, uvicorn"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}
