import { defineCommand } from "citty";
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
  },
  run: ({ args }) =>
    guarded("flash logs", async () => {
      const appName = await appNameFor(args.app);
      const conn = await connection();
      const { LogClient, sinceTimestamp, formatEntry, TAIL_MAX } = await import("../deploy/logs");
      if (args.source && args.source !== "container" && args.source !== "system") {
        throw new Error(`--source must be container or system (got ${args.source})`);
      }
      const tail = args.tail === undefined ? undefined : Number(args.tail);
      if (tail !== undefined && (!Number.isInteger(tail) || tail < 0 || tail > TAIL_MAX)) {
        throw new Error(`--tail must be an integer from 0 to ${TAIL_MAX}`);
      }
      const endpointId = await resolveEndpoint(conn, appName, args.resource, args.env);
      // The v2 REST routes live on the GraphQL host (runpodctl internal/api/logs.go: https://api.runpod.io/v2).
      const client = new LogClient(conn.apiKey, `${conn.urls.apiBaseUrl}/v2`);
      const workers = args.worker ? [args.worker] : (await client.workers(endpointId)).map((w) => w.id);
      if (!workers.length) {
        throw new Error(
          `endpoint ${endpointId} has no workers to read logs from: it may be scaled to zero with no requests waiting (pass --worker ID for an earlier worker)`,
        );
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
      await Promise.all(
        workers.map((w) =>
          client.stream(endpointId, w, opts, (e) => {
            process.stdout.write(tty ? `${formatEntry(e)}\n` : `${JSON.stringify(e)}\n`);
          }),
        ),
      );
    }),
});

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
