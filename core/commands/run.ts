import { defineCommand } from "citty";
import { resolve } from "node:path";
import { buildApp, type UnifiedApp } from "../app/app";
import { locateWorkspace, missingFolder } from "../workspace/discovery";
import { runShutdownHooks } from "../base/lifecycle";
import { LocalTarget } from "../remote/local/local-target";
import type { ReloadedModules } from "../remote/protocol";
import { currentTarget } from "../remote/target";
import { formatLoadError } from "../workspace/modules";
import { log, setLogLevel } from "../base/log";
import { startServer } from "../dev/server";
import { listenSettings, loadDotEnv, reloadDotEnv } from "../base/env";
import { onStopSignals, selectTarget } from "./_shared";
import { COMMANDS } from "./catalog";

/** Log what an app serves: examples, routes, and each load error. */
function reportApp(app: UnifiedApp): void {
  const served = app.examples.filter((e) => e.routers.length > 0).length;
  log.info(
    `${served} example${served === 1 ? "" : "s"}, ${app.routeCount} route${app.routeCount === 1 ? "" : "s"} (built in ${app.buildMs.toFixed(0)} ms)`,
  );
  for (const e of app.errors) log.error(`load error: ${formatLoadError(e)}`);
  if (app.examples.length === 0) {
    log.warn(
      "no examples here: examples live in NN_category/NN_example folders; create one with `flash init 01_getting_started/01_hello_world`",
    );
  }
}

/** `flash run`: serve every example of the workspace (or of the category/example you are in) in one app. */
/** How many ports after a busy default `flash run` tries. */
const PORT_TRIES = 20;

export default defineCommand({
  meta: { name: "run", description: COMMANDS.run },
  args: {
    dir: {
      type: "positional",
      required: false,
      description: "Workspace, category or example folder to serve (default: current directory)",
    },
    host: { type: "string", description: "Host to listen on (env FLASH_HOST, default localhost)" },
    port: {
      type: "string",
      alias: "p",
      description: "Port to listen on (env FLASH_PORT, default 8888; 0 picks a free port)",
    },
    watch: {
      type: "boolean",
      alias: "w",
      description: "Reload edited code without restarting the server",
      default: false,
    },
    "max-body": {
      type: "string",
      description:
        "Largest request body accepted, e.g. 32MiB or 500k (env FLASH_MAX_BODY, default 32MiB); larger ones get a 413",
    },
    verbose: { type: "boolean", alias: "v", description: "Show debug logs", default: false },
    quiet: { type: "boolean", alias: "q", description: "No log line per request", default: false },
    target: {
      type: "string",
      alias: "t",
      description: "Where remote functions run: local, runpod or emulator (env FLASH_TARGET, default local)",
    },
  },
  async run({ args }) {
    if (args.verbose) setLogLevel("verbose");
    const missing = args.dir ? missingFolder(String(args.dir)) : undefined;
    if (missing) {
      log.error(missing);
      process.exit(1);
    }
    const cwd = resolve(String(args.dir ?? process.cwd()));
    const { root, scope } = locateWorkspace(cwd);
    let settings;
    try {
      loadDotEnv([root, cwd]);
      settings = listenSettings({ host: args.host, port: args.port, maxBody: args["max-body"] });
    } catch (err) {
      log.error((err as Error).message);
      process.exit(1);
    }
    try {
      await selectTarget(args.target, root);
    } catch (err) {
      log.error((err as Error).message);
      process.exit(1);
    }
    // Loaded before listening, so the watcher starts in the same tick as the server: no edit slips in between.
    const watchModule = args.watch ? await import("../dev/watch") : undefined;
    const target = currentTarget();
    const releaseWarmups = target instanceof LocalTarget ? target.holdWarmups() : () => undefined;
    const app = await buildApp({ root, scope });
    const onResponse = args.quiet
      ? undefined
      : (request: Request, status: number, ms: number) =>
          log.info(`${request.method} ${new URL(request.url).pathname} ${status} ${Math.round(ms)} ms`);
    // No port asked for (flag or FLASH_PORT): a busy default moves to the next free one, as Vite does.
    const portAsked = args.port !== undefined || !!process.env.FLASH_PORT;
    let server;
    for (let port = settings.port; ; port++) {
      try {
        server = startServer(app, settings.host, port, { maxBodyBytes: settings.maxBodyBytes, onResponse });
        if (port !== settings.port) log.warn(`port ${settings.port} is in use: serving on ${port} instead`);
        break;
      } catch (err) {
        const busy = (err as { code?: string }).code === "EADDRINUSE";
        if (busy && !portAsked && port < settings.port + PORT_TRIES) continue;
        log.error(`cannot listen on ${settings.host}:${port}: ${(err as Error).message}`);
        await runShutdownHooks();
        process.exit(1);
      }
    }
    let stopWatching: (() => void) | undefined;
    // Registered before anything is announced: a Ctrl+C (or a script's SIGINT) sent as soon as the URL shows must
    // stop the server cleanly, not find Bun's default action still in place.
    onStopSignals(async (signal) => {
      log.info(`${signal}: finishing in-flight requests and stopping`);
      stopWatching?.();
      await server.stop();
      const failed = await runShutdownHooks();
      process.exit(failed ? 1 : 0);
    });
    // Warm workers start once the socket is open, so they do not slow the server's own start-up.
    setTimeout(releaseWarmups, 0);
    if (watchModule) {
      // Workers hold the modules they imported: after a reload, calls to changed modules get workers with new code.
      const recycle = (reloaded: ReloadedModules) => currentTarget().recycle?.(reloaded);
      const reloadEnv = () => {
        try {
          reloadDotEnv([root, cwd]);
        } catch (err) {
          log.error(`${(err as Error).message}; keeping the previous environment`);
        }
      };
      stopWatching = watchModule.watchWorkspace({ root, scope, server, recycle, reloadEnv });
    }
    const where = scope.example ? `${scope.category}/${scope.example}` : (scope.category ?? root);
    log.success(`flash serving ${where} at ${server.url}  (docs: ${server.url}/docs)`);
    reportApp(app);
  },
});
