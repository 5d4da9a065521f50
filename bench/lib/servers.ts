/** How each contender is started: flash (from source and compiled), the uvicorn peer, and raw Bun.serve. */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "./proc";
import { REPO, engine } from "./engine";

/** The Debian Python that has fastapi/uvicorn (the `python3` on PATH may be a pyenv build without them). */
const PYTHON = "/usr/bin/python3";
/** The compiled binary made by `bun run build` (in the flash being measured). */
export function flashBin(): string {
  return join(engine.root, "dist", "flash");
}

/** `bun cli.ts run <dir>`: flash from source. */
export function flashSource(dir: string, watch = false): Command {
  return {
    argv: [
      "bun",
      join(engine.root, "cli.ts"),
      "run",
      dir,
      "--host",
      "127.0.0.1",
      "--port",
      "{port}",
      // No request log line: the uvicorn peer runs at --log-level warning, without its access log.
      "--quiet",
      ...(watch ? ["--watch"] : []),
    ],
    cwd: dir,
  };
}

/** `./flash run <dir>`: the compiled binary. */
export function flashBinary(dir: string, watch = false): Command {
  return {
    argv: [flashBin(), "run", dir, "--host", "127.0.0.1", "--port", "{port}", "--quiet", ...(watch ? ["--watch"] : [])],
    cwd: dir,
  };
}

/** What `flash run` of runpod/flash (Python) runs: `python -m uvicorn main:app … --log-level warning [--reload]`. */
export function uvicorn(pyDir: string, reload = false): Command {
  return {
    argv: [
      PYTHON,
      "-m",
      "uvicorn",
      "main:app",
      "--host",
      "127.0.0.1",
      "--port",
      "{port}",
      "--log-level",
      "warning",
      ...(reload ? ["--reload"] : []),
    ],
    cwd: pyDir,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
  };
}

/** The raw `Bun.serve` ceiling. */
export function rawBun(): Command {
  return { argv: ["bun", join(REPO, "bench", "peer", "raw.ts"), "--port", "{port}"], cwd: REPO };
}

/** Newest modification time among cli.ts and core/**\/*.ts (what the binary is built from). */
function newestSource(): number {
  let newest = statSync(join(engine.root, "cli.ts")).mtimeMs;
  for (const rel of new Bun.Glob("core/**/*.ts").scanSync({ cwd: engine.root }))
    newest = Math.max(newest, statSync(join(engine.root, rel)).mtimeMs);
  return newest;
}

/**
 * Build `./flash` with `bun run build` when it is missing or older than its sources. A failed build (another
 * change half-done in the tree) falls back to the existing binary with a warning; with none, it throws.
 */
export async function ensureBinary(): Promise<void> {
  const bin = flashBin();
  const exists = existsSync(bin);
  if (exists && statSync(bin).mtimeMs >= newestSource()) return;
  console.log(`${exists ? "rebuilding stale" : "building"} ./flash (bun run build)…`);
  const proc = Bun.spawn(["bun", "run", "build"], { cwd: engine.root, stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code === 0) return;
  if (!exists) throw new Error(`bun run build failed:\n${err.slice(-1500)}`);
  console.log(
    `warning: bun run build failed, using the existing (older) ./flash:\n${err.trim().split("\n").slice(-3).join("\n")}`,
  );
}

/** Whether the uvicorn peer can run here (Debian python3-fastapi and python3-uvicorn installed). */
export function havePython(): boolean {
  return (
    Bun.spawnSync([PYTHON, "-c", "import fastapi, uvicorn"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0
  );
}
