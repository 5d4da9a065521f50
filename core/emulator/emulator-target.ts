/**
 * The `emulator` target: a local Runpod emulator started in this process, driven by the same client as Runpod
 * itself (core/runpod/runpod-target.ts), so `flash run --target emulator` exercises the real code path offline.
 */
import { join, resolve } from "node:path";
import { logger } from "../base/log";
import { setting } from "../base/settings";
import { dispatchMode, RunpodTarget, type RunpodTargetOptions } from "../runpod/runpod-target";
import { type Emulator, emulatorKey, startEmulator } from "./server";
import { workspaceWorkerEnv } from "./worker-env";

const tlog = logger("runpod");

/** The emulator target: a local Runpod emulator started in this process, driven by the same client. */
export class EmulatorTarget extends RunpodTarget {
  constructor(
    readonly emulator: Emulator,
    opts: Omit<RunpodTargetOptions, "apiKey" | "urls" | "name"> & { apiKey: string },
  ) {
    super({
      ...opts,
      name: "emulator",
      urls: {
        apiBaseUrl: emulator.apiBaseUrl,
        endpointBaseUrl: emulator.endpointBaseUrl,
        lbBaseUrl: emulator.lbBaseUrl,
      },
    });
  }

  protected override async cleanup(): Promise<void> {
    try {
      await super.cleanup();
    } finally {
      await this.emulator.stop();
    }
  }
}

/** Start an emulator for the workspace at `root` and a target that calls it. */
export function createEmulatorTarget(opts: { root: string; env?: Record<string, string | undefined> }): EmulatorTarget {
  const env = opts.env ?? process.env;
  // A per-session key: the emulator is local, and the user's real key must never be sent to it.
  const apiKey = emulatorKey();
  const emulator = startEmulator({
    apiKey,
    // `flash run` needs no GraphQL (it provisions through REST v2): serving none but Flash apps' keeps it so, and
    // shows it keeps working the day Runpod retires GraphQL.
    retireGraphql: true,
    workers: {
      env: workspaceWorkerEnv(opts.root, env),
      volumesDir: resolve(opts.root, setting("FLASH_VOLUMES_DIR", env)!),
    },
  });
  tlog.info(`Runpod emulator on ${emulator.url} (endpoints appear on first call)`);
  return new EmulatorTarget(emulator, {
    apiKey,
    root: opts.root,
    statePath: join(opts.root, ".flash", "emulator-resources.json"),
    dispatch: dispatchMode(setting("FLASH_RUNPOD_DISPATCH", env)),
  });
}
