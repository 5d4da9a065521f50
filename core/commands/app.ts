import { defineCommand } from "citty";
import { log } from "../base/log";
import { COMMANDS } from "./catalog";
import { appNameFor, confirm, connection, guarded } from "./_deploy";
import { environmentJson, jsonArg, printJson } from "./_json";

async function setup() {
  const conn = await connection();
  const { clients } = await import("../deploy/deploy");
  const undeploy = await import("../deploy/undeploy");
  const { renderTable } = await import("../deploy/table");
  return { conn, apps: clients(conn).apps, undeploy, renderTable };
}

const nameArg = {
  name: { type: "positional" as const, required: false, description: "App name (default: this workspace's)" },
};

const list = defineCommand({
  meta: { name: "list", description: "List the Flash apps of the account" },
  args: jsonArg,
  run: ({ args }) =>
    guarded("flash app list", async () => {
      await appNameFor(undefined);
      const { apps, renderTable } = await setup();
      const all = await apps.listApps();
      if (args.json) {
        return printJson({
          apps: all.map((a) => ({
            name: a.name,
            id: a.id,
            environments: a.flashEnvironments.map((e) => e.name),
            builds: a.flashBuilds.length,
          })),
        });
      }
      const rows = all.map((a) => [
        a.name,
        a.id,
        a.flashEnvironments.map((e) => e.name).join(", ") || "—",
        String(a.flashBuilds.length),
      ]);
      process.stdout.write(
        rows.length
          ? renderTable(["NAME", "ID", "ENVIRONMENTS", "BUILDS"], rows)
          : "No Flash apps (flash deploy creates one).\n",
      );
    }),
});

const create = defineCommand({
  meta: { name: "create", description: "Create a Flash app" },
  args: nameArg,
  run: ({ args }) =>
    guarded("flash app create", async () => {
      const name = await appNameFor(args.name);
      const { apps } = await setup();
      if (await apps.appByName(name)) throw new Error(`app ${name} already exists`);
      const app = await apps.createApp(name);
      process.stdout.write(`Created app ${app.name} (${app.id}).\n`);
    }),
});

const get = defineCommand({
  meta: { name: "get", description: "Show an app: its environments and builds" },
  args: { ...nameArg, ...jsonArg },
  run: ({ args }) =>
    guarded("flash app get", async () => {
      const name = await appNameFor(args.name);
      const { apps, undeploy, renderTable } = await setup();
      const app = await undeploy.requireApp(apps, name);
      if (args.json) {
        return printJson({
          name: app.name,
          id: app.id,
          environments: app.flashEnvironments.map(environmentJson),
          builds: app.flashBuilds.map((b) => ({
            id: b.id,
            objectKey: b.objectKey ?? null,
            createdAt: b.createdAt ?? null,
          })),
        });
      }
      process.stdout.write(`App ${app.name} (${app.id})\n\nEnvironments:\n`);
      const envs = app.flashEnvironments.map((e) => [
        e.name,
        e.id,
        e.state,
        e.activeBuildId ?? "—",
        String(e.endpoints?.length ?? 0),
      ]);
      process.stdout.write(
        envs.length ? renderTable(["NAME", "ID", "STATE", "ACTIVE BUILD", "ENDPOINTS"], envs) : "  none\n",
      );
      process.stdout.write("\nBuilds:\n");
      const builds = app.flashBuilds.map((b) => [b.id, b.objectKey ?? "", b.createdAt ?? ""]);
      process.stdout.write(builds.length ? renderTable(["ID", "OBJECT KEY", "CREATED"], builds) : "  none\n");
    }),
});

const del = defineCommand({
  meta: { name: "delete", description: "Delete an app, its environments and the endpoints flash deployed" },
  args: { ...nameArg, yes: { type: "boolean", alias: "y", description: "Delete without asking", default: false } },
  run: ({ args }) =>
    guarded("flash app delete", async () => {
      const name = await appNameFor(args.name);
      const { conn, apps, undeploy } = await setup();
      const app = await undeploy.requireApp(apps, name);
      const envs = app.flashEnvironments.map((e) => e.name).join(", ") || "none";
      if (
        !args.yes &&
        !(await confirm(`Delete app ${app.name} (environments: ${envs}) and every endpoint flash deployed to it?`))
      ) {
        log.warn(
          process.stdin.isTTY ? "cancelled: nothing deleted" : "not a terminal: pass --yes to delete (nothing deleted)",
        );
        process.exit(1);
      }
      await undeploy.deleteApp(conn, app);
      process.stdout.write(`Deleted app ${app.name}.\n`);
    }),
});

/** `flash app list|create|get|delete`: Flash apps. */
export default defineCommand({
  meta: { name: "app", description: COMMANDS.app },
  subCommands: { list, create, get, delete: del },
});
