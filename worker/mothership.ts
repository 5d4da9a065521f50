/**
 * The deployed mothership: the unified app of the deployed examples (core/app/app.ts, what `flash run` serves), its
 * `remote()` calls sent to the app's deployed endpoints. core/app/app.ts is loaded through a hook the entry sets
 * (the binary's `flash __runpod-worker`, or the artifact's mothership runtime), so the worker program that live
 * calls carry stays a single file without the docs assets.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Manifest } from "../core/deploy/manifest";

/** globalThis key of the loader of core/app/app.ts. */
export const APP_LOADER = Symbol.for("flash.deploy.app");

type ServedApp = typeof import("../core/app/app");

async function loadApp(): Promise<ServedApp> {
  const hook = (globalThis as Record<symbol, unknown>)[APP_LOADER] as (() => Promise<ServedApp>) | undefined;
  if (hook) return hook();
  // From source (`bun worker/main.ts`): the module is on disk; a computed path keeps bundlers from inlining it.
  const file = join(import.meta.dir, "..", "core", "app", "app.ts");
  if (!existsSync(file))
    throw new Error("this worker program has no mothership (use the artifact's mothership runtime)");
  return (await import(file)) as ServedApp;
}

/** The mothership: the unified app of the deployed examples, its remote calls sent to the deployed endpoints. */
export async function serveMothership(appDir: string, manifest: Manifest, say: (line: string) => void): Promise<void> {
  // Runpod gives every worker RUNPOD_ENDPOINT_ID/RUNPOD_POD_ID, which would put remote() in worker mode (run
  // in-process): the mothership must call the endpoints instead.
  delete process.env.RUNPOD_ENDPOINT_ID;
  delete process.env.RUNPOD_POD_ID;
  const env = process.env;
  const { runpodUrls } = await import("../core/runpod/connection");
  const { DeployedTarget } = await import("../core/deploy/deployed-target");
  const { setTarget } = await import("../core/remote/target");
  if (!env.RUNPOD_API_KEY)
    throw new Error("the mothership needs RUNPOD_API_KEY to call the app's endpoints (flash deploy sets it)");
  setTarget(
    new DeployedTarget({
      apiKey: env.RUNPOD_API_KEY,
      urls: runpodUrls(env),
      environmentId: env.FLASH_ENVIRONMENT_ID ?? "",
      environmentName: env.FLASH_ENVIRONMENT ?? "production",
      appDir,
      manifest,
      endpointIds: endpointIdsOf(env.FLASH_ENDPOINTS),
    }),
  );
  let app: { fetch: (r: Request) => Response | Promise<Response> } | undefined;
  const port = Number(env.PORT ?? 80);
  Bun.serve({
    port,
    hostname: "0.0.0.0",
    idleTimeout: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === (env.HEALTH_CHECK_PATH || "/ping")) {
        return app ? Response.json({ status: "healthy" }) : new Response(null, { status: 204 });
      }
      if (!app) return Response.json({ error: "initializing" }, { status: 503 });
      return app.fetch(req);
    },
  });
  const started = performance.now();
  const { buildApp } = await loadApp();
  const built = await buildApp({ root: appDir, scope: manifest.scope });
  for (const e of built.errors) say(`load error in ${e.example}: ${e.message}`);
  app = built;
  say(
    `mothership ready: ${built.routeCount} routes of ${built.examples.length} example(s) in ${Math.round(performance.now() - started)} ms`,
  );
}

/** The endpoint ids `flash deploy` put in the env (FLASH_ENDPOINTS, JSON); none when it is missing or unreadable. */
function endpointIdsOf(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}
