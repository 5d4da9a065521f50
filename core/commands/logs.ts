import { defineCommand } from "citty";
import { join } from "node:path";
import { locateWorkspace } from "../workspace/discovery";
import { parseDuration } from "../base/duration";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";
import { appNameFor, connection, guarded } from "./_deploy";

/** `flash logs [resource]`: worker logs of a deployed (or live) endpoint, readable at a terminal, JSON Lines when piped. */
export default defineCommand({
  meta: { name: "logs", description: COMMANDS.logs },
  args: {
    resource: {
      type: "positional",
      required: false,
      description: "Resource name, endpoint name or endpoint id (default: the deployed app's mothership)",
    },
    follow: { type: "boolean", alias: "f", description: "Keep streaming new lines (Ctrl+C stops)", default: false },
    worker: { type: "string", alias: "w", description: "Only this worker id" },
    since: { type: "string", description: "Start this long ago (30m, 2h, 1d) or at an RFC 3339 time" },
    tail: { type: "string", description: "Lines to replay per worker (default 100, at most 5000)" },
    source: { type: "string", description: "container (the worker's output) or system (image pull, container start)" },
    app: { type: "string", alias: "a", description: "Flash app (default: this workspace's)" },
    env: { type: "string", alias: "e", description: "Environment (default: the app's only one)" },
    poll: { type: "string", description: "With --follow: how often to look for workers that started (default 5s)" },
  },
  run: ({ args }) =>
    guarded("flash logs", async () => {
      const appName = await appNameFor(args.app);
      const conn = await connection();
      const { LogClient, noWorkersMessage, SeenWorkers, sinceTimestamp, formatEntry, TAIL_MAX } = await import(
        "../deploy/logs"
      );
      if (args.source && args.source !== "container" && args.source !== "system") {
        throw new Error(`--source must be container or system (got ${args.source})`);
      }
      const tail = args.tail === undefined ? undefined : Number(args.tail);
      if (tail !== undefined && (!Number.isInteger(tail) || tail < 0 || tail > TAIL_MAX)) {
        throw new Error(`--tail must be an integer from 0 to ${TAIL_MAX}`);
      }
      const pollMs = parseDuration(args.poll ?? "5s", "--poll");
      const endpointId = await resolveEndpoint(conn, appName, args.resource, args.env);
      // The v2 REST routes live on the GraphQL host (runpodctl internal/api/logs.go: https://api.runpod.io/v2).
      const client = new LogClient(conn.apiKey, `${conn.urls.apiBaseUrl}/v2`);
      const seen = new SeenWorkers(join(locateWorkspace(process.cwd()).root, ".flash", "log-workers.json"));
      const listed = async () => {
        const ids = (await client.workers(endpointId)).map((w) => w.id);
        seen.remember(endpointId, ids);
        return ids;
      };
      let workers = args.worker ? [args.worker] : await listed();
      if (!workers.length) {
        // Runpod lists only active workers; the last ones this workspace saw still have their logs.
        const earlier = seen.recent(endpointId);
        if (earlier.length) {
          log.warn(
            `endpoint ${endpointId} has no active workers (scaled to zero): showing the logs of the ${earlier.length} ` +
              `worker(s) flash logs saw last (last seen ${earlier[0]!.lastSeen})`,
          );
          workers = earlier.map((w) => w.id);
        } else if (!args.follow) throw new Error(noWorkersMessage(endpointId));
      }
      const tty = !!process.stdout.isTTY;
      const controller = new AbortController();
      process.on("SIGINT", () => controller.abort());
      const opts = {
        since: args.since ? sinceTimestamp(args.since) : undefined,
        tail,
        source: args.source as "container" | "system" | undefined,
        follow: args.follow,
        signal: controller.signal,
      };
      const read = (w: string) =>
        client.stream(endpointId, w, opts, (e) => {
          process.stdout.write(tty ? `${formatEntry(e)}\n` : `${JSON.stringify(e)}\n`);
        });
      const streams = workers.map(read);
      // Following: workers that start later (the next scale-up) are read too, as the listing shows them.
      if (args.follow && !args.worker) {
        streams.push(followNewWorkers(listed, new Set(workers), read, controller.signal, pollMs));
      }
      await Promise.all(streams);
    }),
});

/**
 * Poll the worker listing every `everyMs` until `signal` aborts, reading each new worker's log as it appears; while
 * none is active, a spinner (or a line when it begins and ends) says the command waits for one.
 */
async function followNewWorkers(
  listed: () => Promise<string[]>,
  known: Set<string>,
  read: (workerId: string) => Promise<void>,
  signal: AbortSignal,
  everyMs: number,
): Promise<void> {
  const { beginWait } = await import("../base/spinner");
  const { sleep } = await import("../runpod/http");
  const waitingText = "no active worker: waiting for one to start (call the endpoint)";
  let wait = known.size ? undefined : beginWait(waitingText, { plain: (l) => log.warn(l) });
  const reads: Promise<void>[] = [];
  while (!signal.aborted) {
    if (
      !(await sleep(everyMs, signal).then(
        () => true,
        () => false,
      ))
    )
      break;
    const ids = await listed().catch(() => [] as string[]);
    for (const id of ids.filter((i) => !known.has(i))) {
      known.add(id);
      wait?.end(`worker ${id} started`);
      wait = undefined;
      reads.push(read(id));
    }
  }
  wait?.end("stopped waiting for a worker");
  await Promise.all(reads);
}

/** The endpoint id a `flash logs` argument names: a deployed resource, else an endpoint name or id on the account. */
async function resolveEndpoint(
  conn: Awaited<ReturnType<typeof connection>>,
  appName: string,
  wanted: string | undefined,
  envName: string | undefined,
): Promise<string> {
  const { clients } = await import("../deploy/deploy");
  const { deployedIn, pickEnvironment } = await import("../deploy/undeploy");
  const { apps, rest } = clients(conn);
  const app = await apps.appByName(appName);
  if (app && app.flashEnvironments.length) {
    const env = pickEnvironment(app, envName);
    const state = await deployedIn(apps, env, app.name);
    const name = wanted ?? state.manifest?.mothership;
    const hit = Object.entries(state.deployed).find(
      ([n, d]) => n === name || d.endpoint_name === name || d.endpoint_id === name,
    );
    if (hit) return hit[1].endpoint_id;
  }
  if (!wanted) throw new Error(`no deployed app ${appName}: name an endpoint (flash logs <endpoint id or name>)`);
  const all = await rest.listEndpoints();
  const found =
    all.find((e) => e.id === wanted) ??
    all.find((e) => e.name === wanted) ??
    all.find((e) => e.name === `live-${wanted}` || e.name === `live-${wanted}-fb` || e.name === `${wanted}-fb`);
  if (!found) {
    log.info(`endpoints: ${all.map((e) => e.name).join(", ") || "none"}`);
    throw new Error(`no endpoint named ${wanted}`);
  }
  return found.id;
}
