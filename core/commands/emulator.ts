import { defineCommand } from "citty";
import { resolve } from "node:path";
import { locateWorkspace } from "../workspace/discovery";
import { log, setLogLevel } from "../base/log";
import { loadDotEnv } from "../base/env";
import { onStopSignals } from "./_shared";
import { COMMANDS } from "./catalog";
import { setting } from "../base/settings";

/** `flash emulator`: run the local Runpod emulator on its own, for any Runpod client (ours, runpod-sdk, curl). */
export default defineCommand({
  meta: { name: "emulator", description: COMMANDS.emulator },
  args: {
    host: { type: "string", description: "Host to listen on (default 127.0.0.1)" },
    port: { type: "string", alias: "p", description: "Port (default 8765; 0 picks a free port)" },
    verbose: { type: "boolean", alias: "v", description: "Show debug logs (worker output too)", default: false },
  },
  async run({ args }) {
    if (args.verbose) setLogLevel("verbose");
    const cwd = process.cwd();
    const { root } = locateWorkspace(resolve(cwd));
    loadDotEnv([root, cwd]);
    const port = Number(args.port ?? 8765);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      log.error(`Invalid port "${args.port}": expected an integer from 0 to 65535`);
      process.exit(1);
    }
    const fromEnv = process.env.RUNPOD_API_KEY?.trim();
    const apiKey = fromEnv || `emu_${crypto.randomUUID().replaceAll("-", "")}`;
    const { startEmulator } = await import("../emulator/server");
    const emulator = startEmulator({
      apiKey,
      host: args.host || "127.0.0.1",
      port,
      workers: {
        env: { FLASH_WORKER_CACHE: resolve(root, setting("FLASH_WORKER_CACHE")!) },
      },
    });
    log.success(`Runpod emulator listening at ${emulator.url}`);
    log.info(
      `point a client at it:\n  RUNPOD_API_BASE_URL=${emulator.apiBaseUrl}\n  RUNPOD_ENDPOINT_BASE_URL=${emulator.endpointBaseUrl}\n  RUNPOD_LB_BASE_URL=${emulator.lbBaseUrl}`,
    );
    // The user's real key is never printed; a generated key is an emulator-only credential, so showing it is fine.
    log.info(fromEnv ? "API key: the value of RUNPOD_API_KEY (not shown)" : `API key (emulator only): ${apiKey}`);
    onStopSignals(async () => {
      await emulator.stop();
      process.exit(0);
    });
  },
});
