import { resolve } from "node:path";
import { defineCommand } from "citty";
import { parseDuration } from "../base/duration";
import { onStopSignals, loadDotEnvOrExit } from "./_shared";
import { log, setLogLevel } from "../base/log";
import { locateWorkspace } from "../workspace/discovery";
import { COMMANDS } from "./catalog";

/** Every value of a repeatable `--name value` / `--name=value` flag (citty keeps only the last one). */
export function repeated(rawArgs: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === `--${name}` && i + 1 < rawArgs.length) out.push(rawArgs[++i]!);
    else if (arg.startsWith(`--${name}=`)) out.push(arg.slice(name.length + 3));
  }
  return out;
}

/** `IMAGE=COMMAND` pairs → the emulator's image map; throws with the offending value when one has no `=`. */
export function imageCommands(values: string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0 || eq === value.length - 1) {
      throw new Error(`--image "${value}": expected IMAGE=COMMAND, e.g. --image myorg/img:tag="python3 handler.py"`);
    }
    images[value.slice(0, eq).trim()] = value.slice(eq + 1).trim();
  }
  return images;
}

/** `flash emulator`: run the local Runpod emulator on its own, for any Runpod client (ours, runpod-sdk, curl). */
export default defineCommand({
  meta: { name: "emulator", description: COMMANDS.emulator },
  args: {
    host: { type: "string", description: "Host to listen on (default 127.0.0.1)" },
    port: { type: "string", alias: "p", description: "Port (default 8765; 0 picks a free port)" },
    image: {
      type: "string",
      description:
        'Run a local command as the workers of an image: --image myorg/img:tag="python3 handler.py" (repeatable). ' +
        "Endpoints of images the emulator does not model get no worker: start your own with the printed env",
    },
    "cold-start": {
      type: "string",
      description: "Delay before each worker starts, like an image pull and boot on Runpod (e.g. 20s; default 0)",
    },
    "template-delete-delay": {
      type: "string",
      description: "How long after its last use a template cannot be deleted (Runpod: up to 2m; default 2m)",
    },
    "retire-graphql": {
      type: "boolean",
      description:
        "Serve GraphQL only for Flash apps, as after Runpod retires it (early 2027): endpoints, templates and " +
        "volumes only through REST v2",
      default: false,
    },
    verbose: { type: "boolean", alias: "v", description: "Show debug logs (worker output too)", default: false },
  },
  async run({ args, rawArgs }) {
    if (args.verbose) setLogLevel("verbose");
    const cwd = process.cwd();
    const { root } = locateWorkspace(resolve(cwd));
    loadDotEnvOrExit([root, cwd]);
    const port = Number(args.port ?? 8765);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      log.error(`Invalid port "${args.port}": expected an integer from 0 to 65535`);
      process.exit(1);
    }
    let images: Record<string, string>;
    let coldStartMs: number;
    let templateDeleteDelayMs: number;
    try {
      images = imageCommands(repeated(rawArgs, "image"));
      coldStartMs = args["cold-start"] ? parseDuration(args["cold-start"]) : 0;
      templateDeleteDelayMs = args["template-delete-delay"] ? parseDuration(args["template-delete-delay"]) : 120_000;
    } catch (error) {
      log.error((error as Error).message);
      process.exit(1);
    }
    const fromEnv = process.env.RUNPOD_API_KEY?.trim();
    const { emulatorKey, startEmulator } = await import("../emulator/server");
    const { workspaceWorkerEnv } = await import("../emulator/worker-env");
    const apiKey = fromEnv || emulatorKey();
    const emulator = startEmulator({
      apiKey,
      host: args.host || "127.0.0.1",
      port,
      control: { templateDeleteDelayMs },
      retireGraphql: args["retire-graphql"],
      workers: {
        env: workspaceWorkerEnv(root),
        images,
        coldStartMs,
        announceAttach: true,
      },
    });
    // Registered before the first line a script waits for: a SIGINT sent as soon as the URL shows stops it cleanly.
    onStopSignals(async () => {
      await emulator.stop();
      process.exit(0);
    });
    log.success(`Runpod emulator listening at ${emulator.url}`);
    // One line to paste (or eval) in another shell: deploy, app, env, logs, doctor and login then talk to this emulator.
    const keyShown = fromEnv ? '"$RUNPOD_API_KEY"' : apiKey;
    log.info(
      `point flash at it (paste in another shell):\n  export FLASH_RUNPOD_URL=${emulator.url} RUNPOD_API_KEY=${keyShown}\n` +
        `other clients: RUNPOD_API_BASE_URL=${emulator.apiBaseUrl} RUNPOD_ENDPOINT_BASE_URL=${emulator.endpointBaseUrl} ` +
        `RUNPOD_LB_BASE_URL=${emulator.lbBaseUrl}\n` +
        `REST v2 control plane: ${emulator.restBaseUrl}/serverless, /templates, /network-volumes, /catalog` +
        (args["retire-graphql"] ? "\nGraphQL: retired except for Flash apps" : ""),
    );
    for (const [image, command] of Object.entries(images)) log.info(`workers of ${image} run: ${command}`);
    log.info(
      "containers start for the images the emulator models (oven/bun, runpod/pytorch, flash-worker images) and for " +
        "images mapped with --image; other endpoints get no worker: the emulator prints " +
        `the env to start one with (also at ${emulator.url}/emulator/endpoints/<id>/worker-env)`,
    );
    // The user's real key is never printed; a generated key is an emulator-only credential, so showing it is fine.
    log.info(fromEnv ? "API key: the value of RUNPOD_API_KEY (not shown)" : `API key (emulator only): ${apiKey}`);
  },
});
