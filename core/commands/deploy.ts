import { defineCommand } from "citty";
import { resolve } from "node:path";
import { loadDotEnvOrExit } from "./_shared";
import { log } from "../base/log";
import { locateWorkspace } from "../workspace/discovery";
import { COMMANDS } from "./catalog";
import { confirm, connection } from "./_deploy";
import { buildJson, jsonArg, narrateToStderr, printJson } from "./_json";

/** `flash deploy [dir]`: build, plan (with cost), confirm, upload and apply; prints the URL and a ready curl. */
export default defineCommand({
  meta: { name: "deploy", description: COMMANDS.deploy },
  args: {
    dir: { type: "positional", required: false, description: "Workspace, category or example folder (default: .)" },
    app: {
      type: "string",
      alias: "a",
      description: "Flash app name (default: the workspace folder's name, plus the scope)",
    },
    env: { type: "string", alias: "e", description: "Environment (default: the app's only one, else production)" },
    "dry-run": { type: "boolean", description: "Build and print the plan, change nothing", default: false },
    yes: { type: "boolean", alias: "y", description: "Apply without asking", default: false },
    ...jsonArg,
  },
  async run({ args }) {
    const { root, scope } = locateWorkspace(resolve(args.dir ?? process.cwd()));
    loadDotEnvOrExit([root]);
    const { runBuild, buildSummary } = await import("../deploy/build");
    const { formatBytes } = await import("../base/bytes");
    const { prepareDeploy, applyDeploy } = await import("../deploy/deploy");
    const { renderPlan } = await import("../deploy/plan");
    const { redact } = await import("../runpod/http");
    let apiKey = "";
    // --json: the narration goes to stderr, stdout gets one document at the end (README: Output for scripts).
    if (args.json) narrateToStderr();
    const result = (doc: Record<string, unknown>) => args.json && printJson(doc);
    try {
      const conn = await connection();
      apiKey = conn.apiKey;
      const started = performance.now();
      const build = await runBuild({ root, scope, app: args.app });
      process.stdout.write(buildSummary(build, process.cwd()));
      const prepared = await prepareDeploy(conn, build, build.app, args.env, { dryRun: args["dry-run"] });
      const { app, environment, created, wouldCreate } = prepared.resolved;
      for (const c of created) log.info(`created ${c}`);
      for (const c of wouldCreate) log.info(`would create ${c}`);
      process.stdout.write(`\nPlan for ${app.name} / ${environment.name}:\n${renderPlan(prepared.plan)}`);
      if (!prepared.upload) process.stdout.write("  artifact unchanged: no upload\n");
      const summary = { app: app.name, environment: environment.name, build: buildJson(build) };
      if (args["dry-run"]) {
        result({ ...summary, dryRun: true, changes: prepared.plan.changes, upload: !!prepared.upload });
        process.stdout.write("\n--dry-run: nothing changed.\n");
        process.exit(0);
      }
      if (prepared.plan.changes === 0 && !prepared.upload) {
        process.stdout.write(`\nNothing to change: ${app.name} / ${environment.name} is up to date.\n`);
      } else if (
        !args.yes &&
        !(await confirm(`Apply ${prepared.plan.changes} change(s) to ${app.name} / ${environment.name}?`))
      ) {
        log.warn(
          process.stdin.isTTY ? "cancelled: nothing changed" : "not a terminal: pass --yes to apply (nothing changed)",
        );
        process.exit(1);
      }
      const outcome = await applyDeploy(conn, build, prepared, { progress: !args.json });
      const c = outcome.applied.counts;
      const total = Math.round(performance.now() - started);
      process.stdout.write(
        `\nDeployed ${app.name} / ${environment.name} in ${total} ms: ${c.created} created, ${c.updated} updated, ${c.deleted} deleted, ${c.kept} unchanged` +
          `${outcome.uploaded ? ` (artifact ${formatBytes(build.artifactBytes)} uploaded as build ${outcome.buildId})` : ""}\n`,
      );
      const mothership = build.manifest.mothership;
      const url = outcome.urls[mothership];
      if (url) {
        const route = firstPostRoute(build.manifest);
        process.stdout.write(`\n  App URL: ${url}\n\n  Try it:\n`);
        process.stdout.write(
          `    curl -X POST ${url}${route} \\\n      -H "Authorization: Bearer $RUNPOD_API_KEY" \\\n      -H "Content-Type: application/json" -d '{}'\n`,
        );
      }
      process.stdout.write(
        `\n  Next:\n    flash logs ${mothership} --follow     # worker logs\n    flash env get ${environment.name}\n    flash deploy                          # after a change (plans first)\n    flash undeploy --all --env ${environment.name}\n`,
      );
      result({
        ...summary,
        dryRun: false,
        buildId: outcome.buildId,
        uploaded: outcome.uploaded,
        counts: c,
        url: url ?? null,
        urls: outcome.urls,
        failures: outcome.applied.failures,
      });
      if (outcome.applied.failures.length) {
        log.error(`${outcome.applied.failures.length} endpoint(s) failed; run flash deploy again to retry them`);
        process.exit(1);
      }
      process.exit(0);
    } catch (err) {
      log.error(`flash deploy failed: ${redact((err as Error).message, apiKey)}`);
      process.exit(1);
    }
  },
});

/** A POST route of the app to show in the curl example (the mothership's routes are the examples' routers). */
function firstPostRoute(manifest: import("../deploy/manifest").Manifest): string {
  const post = Object.keys(manifest.routes[manifest.mothership] ?? {}).find((k) => k.startsWith("POST "));
  return post ? post.slice(5) : "/";
}
