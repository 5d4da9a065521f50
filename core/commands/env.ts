import { defineCommand } from "citty";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";
import { appNameFor, confirm, connection, guarded } from "./_deploy";
import { environmentJson, jsonArg, printJson } from "./_json";

const appArg = { app: { type: "string" as const, alias: "a", description: "Flash app (default: this workspace's)" } };

async function setup(appFlag?: string) {
  const appName = await appNameFor(appFlag);
  const conn = await connection();
  const { clients } = await import("../deploy/deploy");
  const undeploy = await import("../deploy/undeploy");
  const { renderTable } = await import("../deploy/table");
  return { appName, conn, apps: clients(conn).apps, undeploy, renderTable };
}

const list = defineCommand({
  meta: { name: "list", description: "List the environments of the app" },
  args: { ...appArg, ...jsonArg },
  run: ({ args }) =>
    guarded("flash env list", async () => {
      const { appName, apps, undeploy, renderTable } = await setup(args.app);
      const app = await undeploy.requireApp(apps, appName);
      if (args.json) {
        return printJson({
          app: app.name,
          environments: app.flashEnvironments.map(environmentJson),
        });
      }
      const rows = app.flashEnvironments.map((e) => [
        e.name,
        e.id,
        e.state,
        e.activeBuildId ?? "—",
        String(e.endpoints?.length ?? 0),
        e.createdAt ?? "",
      ]);
      process.stdout.write(`Environments of ${app.name}:\n`);
      process.stdout.write(
        rows.length
          ? renderTable(["NAME", "ID", "STATE", "ACTIVE BUILD", "ENDPOINTS", "CREATED"], rows)
          : "  (none: flash deploy creates production)\n",
      );
    }),
});

const create = defineCommand({
  meta: { name: "create", description: "Create an environment (and the app when it does not exist)" },
  args: { name: { type: "positional", required: true, description: "Environment name" }, ...appArg },
  run: ({ args }) =>
    guarded("flash env create", async () => {
      const { appName, apps } = await setup(args.app);
      const app = (await apps.appByName(appName)) ?? (await apps.createApp(appName));
      if (app.flashEnvironments.some((e) => e.name === args.name))
        throw new Error(`app ${app.name} already has an environment ${args.name}`);
      const env = await apps.createEnvironment(app.id, args.name);
      process.stdout.write(`Created environment ${env.name} (${env.id}, ${env.state}) in app ${app.name}.\n`);
    }),
});

const get = defineCommand({
  meta: { name: "get", description: "Show an environment: its state, build and endpoints" },
  args: { name: { type: "positional", required: true, description: "Environment name" }, ...appArg, ...jsonArg },
  run: ({ args }) =>
    guarded("flash env get", async () => {
      const { appName, conn, apps, undeploy, renderTable } = await setup(args.app);
      const app = await undeploy.requireApp(apps, appName);
      const env = await apps.environment(undeploy.pickEnvironment(app, args.name).id);
      const state = await undeploy.deployedIn(apps, env, app.name);
      const byId = new Map(Object.entries(state.deployed).map(([n, d]) => [d.endpoint_id, n]));
      const { endpointUrl } = await import("../deploy/deploy");
      if (args.json) {
        return printJson({
          app: app.name,
          name: env.name,
          id: env.id,
          state: env.state,
          activeBuildId: env.activeBuildId ?? null,
          createdAt: env.createdAt ?? null,
          endpoints: (env.endpoints ?? []).map((e) => {
            const resource = byId.get(e.id);
            const lb = resource ? !!state.manifest?.resources[resource]?.is_load_balanced : false;
            return {
              name: e.name,
              id: e.id,
              resource: resource ?? null,
              url: resource ? endpointUrl(conn.urls, e.id, lb) : null,
            };
          }),
        });
      }
      process.stdout.write(
        `Environment ${env.name} of ${app.name}\n  id            ${env.id}\n  state         ${env.state}\n  active build  ${env.activeBuildId ?? "—"}\n  created       ${env.createdAt ?? ""}\n\n`,
      );
      const rows = (env.endpoints ?? []).map((e) => {
        const resource = byId.get(e.id);
        const lb = resource ? !!state.manifest?.resources[resource]?.is_load_balanced : false;
        return [e.name, e.id, resource ?? "(not deployed by flash)", resource ? endpointUrl(conn.urls, e.id, lb) : ""];
      });
      process.stdout.write(rows.length ? renderTable(["ENDPOINT", "ID", "RESOURCE", "URL"], rows) : "  no endpoints\n");
    }),
});

const del = defineCommand({
  meta: { name: "delete", description: "Delete an environment and the endpoints flash deployed to it" },
  args: {
    name: { type: "positional", required: true, description: "Environment name" },
    ...appArg,
    yes: { type: "boolean", alias: "y", description: "Delete without asking", default: false },
  },
  run: ({ args }) =>
    guarded("flash env delete", async () => {
      const { appName, conn, apps, undeploy } = await setup(args.app);
      const app = await undeploy.requireApp(apps, appName);
      const env = undeploy.pickEnvironment(app, args.name);
      const n = (await apps.environment(env.id)).endpoints?.length ?? 0;
      if (!args.yes && !(await confirm(`Delete environment ${env.name} of ${app.name} and its ${n} endpoint(s)?`))) {
        log.warn(
          process.stdin.isTTY ? "cancelled: nothing deleted" : "not a terminal: pass --yes to delete (nothing deleted)",
        );
        process.exit(1);
      }
      const removed = await undeploy.deleteEnvironment(conn, app, env);
      process.stdout.write(`Deleted environment ${env.name} of ${app.name} and ${removed.length} endpoint(s).\n`);
    }),
});

/** `flash env list|create|get|delete`: the environments of a Flash app. */
export default defineCommand({
  meta: { name: "env", description: COMMANDS.env },
  subCommands: { list, create, get, delete: del },
});
