import { defineCommand } from "citty";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";
import { appNameFor, confirm, connection, guarded } from "./_deploy";
import { jsonArg, narrateToStderr, printJson } from "./_json";

/** `flash undeploy [name] [--all]`: delete endpoints flash deployed to an environment (resource or endpoint name). */
export default defineCommand({
  meta: { name: "undeploy", description: COMMANDS.undeploy },
  args: {
    name: { type: "positional", required: false, description: "Resource (or endpoint) name to delete" },
    all: { type: "boolean", description: "Delete every endpoint deployed to the environment", default: false },
    app: { type: "string", alias: "a", description: "Flash app (default: this workspace's)" },
    env: { type: "string", alias: "e", description: "Environment (default: the app's only one)" },
    yes: { type: "boolean", alias: "y", description: "Delete without asking", default: false },
    ...jsonArg,
  },
  run: ({ args }) =>
    guarded("flash undeploy", async () => {
      if (args.json) narrateToStderr();
      const appName = await appNameFor(args.app);
      const conn = await connection();
      const { clients } = await import("../deploy/deploy");
      const { requireApp, pickEnvironment, deployedIn, undeployResources } = await import("../deploy/undeploy");
      const { renderTable } = await import("../deploy/table");
      const { apps } = clients(conn);
      const app = await requireApp(apps, appName);
      const env = pickEnvironment(app, args.env);
      const state = await deployedIn(apps, env, app.name);
      const all = Object.entries(state.deployed);
      const rowsOf = (entries: typeof all) =>
        entries.map(([resource, d]) => ({ resource, endpoint: d.endpoint_name, id: d.endpoint_id }));
      if (!args.name && !args.all) {
        if (args.json) return printJson({ app: app.name, environment: env.name, deployed: rowsOf(all) });
        process.stdout.write(`Deployed to ${app.name} / ${env.name}:\n`);
        process.stdout.write(
          all.length
            ? renderTable(
                ["RESOURCE", "ENDPOINT", "ID"],
                all.map(([n, d]) => [n, d.endpoint_name, d.endpoint_id]),
              )
            : "  (nothing)\n",
        );
        process.stdout.write("\nflash undeploy <resource> deletes one; flash undeploy --all deletes them all.\n");
        return;
      }
      const picked = args.all
        ? all
        : all.filter(([n, d]) => n === args.name || d.endpoint_name === args.name || d.endpoint_id === args.name);
      if (!picked.length) {
        if (args.all) {
          // Nothing to delete, but templates an earlier undeploy could not delete yet are tried again.
          if (args.yes && state.pending.length) await undeployResources(conn, env, [], state);
          if (args.json) return printJson({ app: app.name, environment: env.name, deleted: [], failures: [] });
          return void process.stdout.write(`Nothing deployed to ${app.name} / ${env.name}.\n`);
        }
        throw new Error(
          `${args.name} is not deployed to ${app.name} / ${env.name} (deployed: ${all.map(([n]) => n).join(", ") || "nothing"})`,
        );
      }
      if (!args.json)
        process.stdout.write(
          renderTable(
            ["DELETE", "ENDPOINT", "ID"],
            picked.map(([n, d]) => [n, d.endpoint_name, d.endpoint_id]),
          ),
        );
      if (!args.yes && !(await confirm(`Delete ${picked.length} endpoint(s) of ${app.name} / ${env.name}?`))) {
        log.warn(
          process.stdin.isTTY ? "cancelled: nothing deleted" : "not a terminal: pass --yes to delete (nothing deleted)",
        );
        process.exit(1);
      }
      const { removed, failures } = await undeployResources(
        conn,
        env,
        picked.map(([n]) => n),
        state,
      );
      if (args.json) {
        const deleted = new Set(removed);
        printJson({
          app: app.name,
          environment: env.name,
          deleted: rowsOf(picked.filter(([n]) => deleted.has(n))),
          failures,
        });
      } else process.stdout.write(`Deleted ${removed.length} endpoint(s) of ${app.name} / ${env.name}.\n`);
      if (failures.length) throw new Error(failures.join("; "));
    }),
});
