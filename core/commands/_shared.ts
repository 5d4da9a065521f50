/** What several commands share: `bun install` with the embedded bun, choosing the target, stopping on Ctrl+C once. */
import { bunCommand } from "../base/binary";
import { loadDotEnv } from "../base/env";
import { log } from "../base/log";
import { setting } from "../base/settings";

/** Run `bun install` at `root` (the binary's embedded bun); logs the tail of its error output on failure. */
export async function bunInstall(root: string): Promise<boolean> {
  const { cmd, env } = bunCommand(["install"]);
  const { withSpinner } = await import("../base/spinner");
  const [code, err] = await withSpinner("bun install: linking the workspace and fetching packages", async () => {
    const proc = Bun.spawn(cmd, { cwd: root, env, stdout: "pipe", stderr: "pipe" });
    return Promise.all([proc.exited, new Response(proc.stderr).text()]);
  });
  if (code !== 0) log.error(`bun install failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" ")}`);
  return code === 0;
}

/** Where `remote()` functions run. */
export type TargetName = "local" | "runpod" | "emulator";

/** The target named by the flag, then FLASH_TARGET, then local. Throws on an unknown name. */
function targetName(flag: string | undefined, env: Record<string, string | undefined> = process.env): TargetName {
  const name = (flag || setting("FLASH_TARGET", env)!).trim().toLowerCase();
  if (name === "local" || name === "runpod" || name === "emulator") return name;
  throw new Error(`Unknown target "${name}": use local, runpod or emulator (flag --target or env FLASH_TARGET)`);
}

/**
 * Make the named target current for every remote call of this process. `local` is the default and needs nothing;
 * `runpod` and `emulator` are loaded only when asked for (they pull in the Runpod client).
 */
export async function selectTarget(flag: string | undefined, root: string): Promise<TargetName> {
  const name = targetName(flag);
  const { setTarget } = await import("../remote/target");
  if (name === "local") {
    // The workspace root decides where network volumes live (.flash/volumes), wherever flash was started.
    const { LocalTarget } = await import("../remote/local/local-target");
    setTarget(new LocalTarget({ root }));
    return name;
  }
  if (name === "runpod") {
    const { createTarget } = await import("../runpod/runpod-target");
    setTarget(await createTarget("runpod", { root }));
  } else {
    const { createEmulatorTarget } = await import("../emulator/emulator-target");
    setTarget(createEmulatorTarget({ root }));
  }
  return name;
}

/** Run `stop` once on the first SIGINT or SIGTERM (a second Ctrl+C while stopping is ignored). */
export function onStopSignals(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const once = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on("SIGINT", () => once("SIGINT"));
  process.on("SIGTERM", () => once("SIGTERM"));
}

/** Load the `.env` files of `dirs`; a bad one (a directory, over the size limit) is one error line and exit 1. */
export function loadDotEnvOrExit(dirs: string[]): void {
  try {
    loadDotEnv(dirs);
  } catch (err) {
    log.error((err as Error).message);
    process.exit(1);
  }
}
