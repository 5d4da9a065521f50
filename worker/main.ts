/**
 * flash's Runpod worker program. Queue endpoints (`FLASH_WORKER_MODE=queue`): takes jobs through the Runpod worker
 * protocol (worker/queue.ts). Load-balanced endpoints (`FLASH_WORKER_MODE=lb`): serves HTTP on PORT with `/ping`,
 * `/execute` and the functions' own routes (worker/lb.ts). Each call installs its dependencies, writes its bundle
 * (once per content hash) and runs it with flash's executor.
 *
 * It runs three ways: `bun worker/main.ts` / `flash __runpod-worker` (the emulator, images built from the
 * Dockerfiles), or imported by worker/bootstrap.js on a stock image, which received this program, bundled, with
 * the first call (`runRunpodWorker(argv, { firstJob })`, `lbHandler()`).
 */
import { existsSync, readFileSync } from "node:fs";
import { registerFlashModules } from "../core/base/self-import";
import { runCall, say } from "./call";
import { lbHandler as lbRequestHandler, serveHttp } from "./lb";
import { queueLoop, readQueueEnv, type TakenJob } from "./queue";

export { materialize, parseShippedCall, runCall, withQuery } from "./call";

/** Local test mode (no platform env): run `--test_input '<json>'` or ./test_input.json once and print the result. */
async function localOnce(argv: string[]): Promise<number> {
  const i = argv.indexOf("--test_input");
  const raw =
    i >= 0 ? argv[i + 1] : existsSync("test_input.json") ? readFileSync("test_input.json", "utf8") : undefined;
  if (!raw) {
    say("no FLASH_WORKER_MODE=lb, no RUNPOD_WEBHOOK_GET_JOB, no --test_input and no test_input.json: nothing to do");
    return 2;
  }
  const parsed = JSON.parse(raw);
  const res = await runCall(parsed?.input ?? parsed);
  process.stdout.write(JSON.stringify(res) + "\n");
  return res.success ? 0 : 1;
}

/** How the bootstrap hands over: the job it already took (queue mode). */
export interface HandOver {
  firstJob?: TakenJob;
}

/**
 * Entry point of the worker program. The mode comes only from FLASH_WORKER_MODE, which flash puts in every
 * template it creates: never from PORT, which Runpod sets to 80 for load-balanced workers and which may be absent
 * or set by a user (docs serverless/load-balancing/overview, "Environment variables"). Without it the worker takes
 * jobs when the platform's job URLs are there, and otherwise runs one local test input, as runpod-python does.
 */
export async function runRunpodWorker(argv: string[] = process.argv.slice(2), handOver: HandOver = {}): Promise<void> {
  registerFlashModules();
  if (process.env.FLASH_RESOURCE_NAME) {
    // Deployed by `flash deploy`: functions come from the environment's artifact, never with a call.
    const { runDeployedWorker } = await import("./deployed");
    return runDeployedWorker();
  }
  if (process.env.FLASH_WORKER_MODE === "lb") {
    process.on("SIGTERM", () => process.exit(0));
    return serveHttp();
  }
  const env = readQueueEnv();
  if (!env) process.exit(await localOnce(argv));
  await queueLoop(env, handOver.firstJob);
}

/**
 * The load-balanced request handler, for the bootstrap (worker/bootstrap.js), which calls it without going through
 * runRunpodWorker: "flash" and "elysia" must resolve to this program's copies before a shipped bundle is imported,
 * or Bun resolves `import … from "flash"` to whatever package of that name it can find (npm has an unrelated one).
 */
export function lbHandler(): (req: Request) => Promise<Response> {
  registerFlashModules();
  return lbRequestHandler();
}

if (import.meta.main) await runRunpodWorker();
