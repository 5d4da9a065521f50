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
import type { WorkerResponse } from "./call";
import { say } from "./platform";
import { queueLoop, readQueueEnv, type TakenJob } from "./queue";

export { materialize, parseShippedCall, runCall } from "./call";
export { withQuery } from "./platform";

/**
 * The executor side (flash's engine, the user's modules): loaded on demand, so that a queue worker's first job-take
 * goes out while it loads instead of after it (a worker's start is part of every cold start).
 */
async function loadCalls(): Promise<typeof import("./call")> {
  const [{ registerFlashModules }, calls] = await Promise.all([
    import("../core/workspace/self-import"),
    import("./call"),
  ]);
  registerFlashModules();
  return calls;
}

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
  const res: WorkerResponse = await (await loadCalls()).runCall(parsed?.input ?? parsed);
  process.stdout.write(JSON.stringify(res) + "\n");
  return res.success ? 0 : 1;
}

/** How the bootstrap hands over: the job it already took (queue mode). */
export interface HandOver {
  firstJob?: TakenJob;
}

/** The LB request handler (the bootstrap installs it in its own server once the program arrived). */
export async function lbHandler(): Promise<(req: Request) => Promise<Response>> {
  await loadCalls();
  return (await import("./lb")).lbHandler();
}

/**
 * Entry point of the worker program. The mode comes only from FLASH_WORKER_MODE, which flash puts in every
 * template it creates: never from PORT, which Runpod sets to 80 for load-balanced workers and which may be absent
 * or set by a user (docs serverless/load-balancing/overview, "Environment variables"). Without it the worker takes
 * jobs when the platform's job URLs are there, and otherwise runs one local test input, as runpod-python does.
 */
export async function runRunpodWorker(argv: string[] = process.argv.slice(2), handOver: HandOver = {}): Promise<void> {
  exitWithEmulator();
  if (process.env.FLASH_RESOURCE_NAME) {
    // Deployed by `flash deploy`: functions come from the environment's artifact, never with a call.
    await loadCalls();
    const { runDeployedWorker } = await import("./deployed");
    return runDeployedWorker();
  }
  if (process.env.FLASH_WORKER_MODE === "lb") {
    process.on("SIGTERM", () => process.exit(0));
    await loadCalls();
    return (await import("./lb")).serveHttp();
  }
  const env = readQueueEnv();
  if (!env) process.exit(await localOnce(argv));
  let loaded: typeof import("./call") | undefined;
  // Loading the engine is synchronous work once its file is read: start it only after the first job-take has
  // gone out, so that the platform sees this worker at once and the load overlaps the long-poll.
  const calls = Bun.sleep(25)
    .then(loadCalls)
    .then((c) => (loaded = c));
  calls.catch((err: Error) => say(`cannot load flash's executor: ${err.message}`));
  const run = async (input: unknown, onChunk?: (chunk: unknown) => void) => (await calls).runCall(input, onChunk);
  await queueLoop(env, { run, bundles: () => loaded?.bundlesSeen.size ?? 0 }, handOver.firstJob);
}

if (import.meta.main) await runRunpodWorker();

/**
 * Under flash's emulator (which names itself in FLASH_EMULATOR_PID), exit once it is gone: the emulator stops its
 * workers, but one killed outright cannot, and a "container" must not outlive its platform.
 */
function exitWithEmulator(): void {
  const pid = Number(process.env.FLASH_EMULATOR_PID);
  if (!pid) return;
  const poll = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      process.exit(0);
    }
  }, 1000);
  poll.unref();
}
