/**
 * Plan before change: what a deploy would create, update (and which fields differ), keep and delete, compared
 * with what the environment's active build recorded at the last deploy (the Python deploy compares the local
 * manifest with the build's stored one the same way: runpod/flash src/runpod_flash/cli/utils/deployment.py).
 * Only endpoints recorded there and still attached to the environment are ever updated or deleted: an endpoint
 * flash did not create is never touched.
 */
import type { EndpointInput, EnvVarInput, TemplateInput } from "../runpod/platform";
import { renderTable } from "./table";
import { configHash } from "../runpod/mapping";
import { runpodUrls, type RunpodUrls } from "../runpod/connection";
import { formatCost, hourlyAt, type HourlyCost, sumCosts } from "./cost";
import type { FlashEnvironment } from "./flash-app-client";
import { type DeployedResource, digestEnv, type Manifest, type ManifestResource } from "./manifest";
import { ADOPTED } from "./record";

/** What the deploy adds to every endpoint: which app, environment and resource its workers serve. */
export interface DeployContext {
  appName: string;
  environment: FlashEnvironment;
  /** The API key the mothership calls the other endpoints with (FLASH_MOTHERSHIP_API_KEY, else RUNPOD_API_KEY). */
  apiKey: string;
  urls: RunpodUrls;
  /** Each resource's template env with values (the build's; the manifest has digests only). */
  env?: Record<string, EnvVarInput[]>;
  /** The app's other endpoints, endpoint name → id: the mothership gets them in its env (FLASH_ENDPOINTS). */
  endpointIds?: Record<string, string>;
}

/** The template and endpoint inputs of one resource, as the deploy sends them (no ids). */
interface Desired {
  resource: string;
  endpointName: string;
  template: Omit<TemplateInput, "id" | "name">;
  endpoint: Omit<EndpointInput, "id" | "templateId">;
  hash: string;
  /** A volume known by name only: its id is looked up (or it is created) when the plan is applied. */
  networkVolume?: ManifestResource["network_volume"];
}

/** One row of the plan. */
export interface PlanRow {
  resource: string;
  action: "create" | "update" | "keep" | "delete";
  endpointName: string;
  endpointId?: string;
  /** For updates: `field: old → new` (env values are never shown, only which keys changed). */
  changes: string[];
  costMin: HourlyCost | null;
  costMax: HourlyCost | null;
  desired?: Desired;
  previous?: DeployedResource;
  /** The mothership's inputs once the other endpoints' ids are known (it is applied after them). */
  redesire?: (endpointIds: Record<string, string>) => Desired;
}

/** The whole plan. */
export interface Plan {
  rows: PlanRow[];
  changes: number;
}

/** The endpoint name of a resource in an environment (`production` keeps the resource's own name). */
export function deployedEndpointName(resource: ManifestResource, environment: string): string {
  const base = resource.endpoint.name;
  return environment === "production" ? base : `${base}-${environment}`;
}

/** The inputs one resource is deployed with. */
function desiredFor(name: string, r: ManifestResource, ctx: DeployContext): Desired {
  const env = new Map((ctx.env?.[name] ?? r.template.env).map((v) => [v.key, v.value]));
  env.set("FLASH_RESOURCE_NAME", name);
  env.set("FLASH_APP", ctx.appName);
  env.set("FLASH_ENVIRONMENT", ctx.environment.name);
  env.set("FLASH_ENVIRONMENT_ID", ctx.environment.id);
  env.set("FLASH_SOURCE_FINGERPRINT", r.source_fingerprint);
  env.set("FLASH_WORKER_MODE", r.is_load_balanced ? "lb" : "queue");
  if (r.is_load_balanced) {
    // Runpod's load balancer reaches workers on PORT and health-checks PORT_HEALTH (both default 80):
    // docs.runpod.io serverless/load-balancing/overview.
    env.set("PORT", "80");
    env.set("PORT_HEALTH", "80");
  }
  if (r.is_mothership) {
    env.set("FLASH_IS_MOTHERSHIP", "true");
    // Where the app's endpoints are, so the mothership needs no control-plane lookup (and a key restricted to the
    // app's endpoints is enough: docs get-started/api-keys, Restricted keys).
    const ids = ctx.endpointIds ?? {};
    env.set(
      "FLASH_ENDPOINTS",
      JSON.stringify(
        Object.fromEntries(
          Object.keys(ids)
            .sort()
            .map((k) => [k, ids[k]]),
        ),
      ),
    );
    // The mothership calls the app's other endpoints (the Python SDK injects the key the same way for endpoints
    // that make remote calls, v1.2+), and finds them through the environment (its "state manager").
    env.set("RUNPOD_API_KEY", ctx.apiKey);
    const defaults = runpodUrls({});
    if (ctx.urls.apiBaseUrl !== defaults.apiBaseUrl) env.set("RUNPOD_API_BASE_URL", ctx.urls.apiBaseUrl);
    if (ctx.urls.endpointBaseUrl !== defaults.endpointBaseUrl)
      env.set("RUNPOD_ENDPOINT_BASE_URL", ctx.urls.endpointBaseUrl);
    if (ctx.urls.lbBaseUrl !== defaults.lbBaseUrl) env.set("RUNPOD_LB_BASE_URL", ctx.urls.lbBaseUrl);
  }
  const template: Desired["template"] = {
    ...r.template,
    env: [...env].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => ({ key, value })),
  };
  const endpointName = deployedEndpointName(r, ctx.environment.name);
  const endpoint: Desired["endpoint"] = { ...r.endpoint, name: endpointName, flashEnvironmentId: ctx.environment.id };
  const volume = r.network_volume;
  const hash = configHash({ name: endpointName, template, endpoint, bootstrap: false });
  return { resource: name, endpointName, template, endpoint, hash, ...(volume ? { networkVolume: volume } : {}) };
}

/** `field: old → new` lines between what was deployed and what would be. */
function diffFields(prev: DeployedResource, next: Desired): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (v === undefined ? "unset" : typeof v === "string" ? v || '""' : JSON.stringify(v));
  const keys = new Set([...Object.keys(prev.endpoint), ...Object.keys(next.endpoint)]);
  for (const k of [...keys].sort()) {
    const a = (prev.endpoint as Record<string, unknown>)[k];
    const b = (next.endpoint as Record<string, unknown>)[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${k}: ${show(a)} → ${show(b)}`);
  }
  for (const k of ["imageName", "containerDiskInGb", "volumeInGb", "dockerArgs"] as const) {
    const a = prev.template[k];
    const b = next.template[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${k}: ${show(a)} → ${show(b)}`);
  }
  // Recorded env values are digests (manifest.ts `envDigest`): compare digests.
  const envA = new Map(digestEnv(prev.template.env).map((v) => [v.key, v.value]));
  const envB = new Map(digestEnv(next.template.env).map((v) => [v.key, v.value]));
  for (const k of [...new Set([...envA.keys(), ...envB.keys()])].sort()) {
    if (envA.get(k) === envB.get(k)) continue;
    if (k === "FLASH_SOURCE_FINGERPRINT") out.push("code changed");
    else if (!envA.has(k)) out.push(`env ${k} added`);
    else if (!envB.has(k)) out.push(`env ${k} removed`);
    else out.push(`env ${k} changed`);
  }
  return out;
}

/**
 * Compare the manifest with what the environment's active build recorded. `prices`: USD per GPU-hour by pool from
 * Runpod's catalog (the cost column falls back to the published table without it).
 */
export function makePlan(
  manifest: Manifest,
  ctx: DeployContext,
  previous: Record<string, DeployedResource>,
  prices?: Readonly<Record<string, number>>,
): Plan {
  const attached = new Set((ctx.environment.endpoints ?? []).map((e) => e.id));
  const rows: PlanRow[] = [];
  // The mothership's env names the other endpoints' ids: known now for those that exist, after apply for new ones.
  const ids: Record<string, string> = {};
  let idsPending = false;
  // Duplicates or adopted endpoints mean interleaved or interrupted deploys wrote the record: the mothership's
  // template may name an endpoint that is about to be deleted, whatever its recorded hash says. Rewrite it.
  const recordSuspect = Object.entries(previous).some(([key, p]) => key.includes("#") || p.desired_hash === ADOPTED);
  for (const [name, r] of Object.entries(manifest.resources)) {
    if (r.is_mothership) continue;
    const prev = previous[name];
    if (prev && attached.has(prev.endpoint_id)) ids[deployedEndpointName(r, ctx.environment.name)] = prev.endpoint_id;
    else idsPending = true;
  }
  for (const [name, r] of Object.entries(manifest.resources)) {
    const desired = desiredFor(name, r, { ...ctx, endpointIds: ids });
    const prev = previous[name];
    const costMin = hourlyAt(r.endpoint, r.endpoint.workersMin, prices);
    const costMax = hourlyAt(r.endpoint, r.endpoint.workersMax, prices);
    const base = { resource: name, endpointName: desired.endpointName, costMin, costMax, desired };
    if (!prev || !attached.has(prev.endpoint_id)) {
      rows.push({ ...base, action: "create", changes: prev ? ["endpoint no longer exists"] : [] });
    } else if (prev.desired_hash === desired.hash && !(r.is_mothership && (idsPending || recordSuspect))) {
      rows.push({ ...base, action: "keep", endpointId: prev.endpoint_id, changes: [], previous: prev });
    } else {
      const changes =
        prev.desired_hash === ADOPTED ? ["adopted: left by an interrupted deploy"] : diffFields(prev, desired);
      rows.push({
        ...base,
        action: "update",
        endpointId: prev.endpoint_id,
        changes: changes.length ? changes : ["config"],
        previous: prev,
      });
    }
  }
  const mothership = rows.find((row) => manifest.resources[row.resource]?.is_mothership);
  if (mothership && idsPending) {
    const r = manifest.resources[mothership.resource]!;
    mothership.redesire = (endpointIds) => desiredFor(mothership.resource, r, { ...ctx, endpointIds });
    if (mothership.action === "update" && !mothership.changes.includes("endpoint ids"))
      mothership.changes.push("endpoint ids");
  }
  for (const [name, prev] of Object.entries(previous)) {
    if (manifest.resources[name] || !attached.has(prev.endpoint_id)) continue;
    rows.push(deleteRow(name, prev));
  }
  const order = { create: 0, update: 1, delete: 2, keep: 3 };
  rows.sort((a, b) => order[a.action] - order[b.action] || a.resource.localeCompare(b.resource));
  return { rows, changes: rows.filter((r) => r.action !== "keep").length };
}

/** Where an endpoint's workers may run: its `locations`, or "any" when it names none (Runpod then picks). */
function dataCentersOf(row: PlanRow): string {
  if (row.action === "delete") return "";
  return row.desired?.endpoint.locations?.split(",").join(", ") || "any";
}

/**
 * The plan as a table a person reads: the data centers each endpoint may run in, and the cost per hour at
 * workersMin and workersMax.
 */
export function renderPlan(plan: Plan): string {
  const head = ["ACTION", "RESOURCE", "ENDPOINT", "DATA CENTERS", "$/h AT MIN", "$/h AT MAX", "CHANGES"];
  const rows = plan.rows.map((r) => [
    r.action,
    r.resource,
    r.endpointId ? `${r.endpointName} (${r.endpointId})` : r.endpointName,
    dataCentersOf(r),
    r.action === "delete" ? "" : formatCost(r.costMin),
    r.action === "delete" ? "" : formatCost(r.costMax),
    r.changes.join("; "),
  ]);
  const live = plan.rows.filter((r) => r.action !== "delete");
  const min = sumCosts(live.map((r) => r.costMin));
  const max = sumCosts(live.map((r) => r.costMax));
  const counts = ["create", "update", "delete", "keep"].map(
    (a) => `${plan.rows.filter((r) => r.action === a).length} to ${a}`,
  );
  const out = [renderTable(head, rows).trimEnd(), ""];
  out.push(`  ${counts.join(", ")}`);
  out.push(
    `  estimated cost per hour: ${formatCost(min.total)} with every endpoint at workersMin, ${formatCost(max.total)} at workersMax` +
      (min.partial || max.partial ? " (GPU endpoints only: Runpod publishes no serverless CPU price)" : ""),
  );
  return `${out.join("\n")}\n`;
}

/** The plan row that deletes a deployed resource. */
export function deleteRow(name: string, prev: DeployedResource): PlanRow {
  return {
    resource: name,
    action: "delete",
    endpointName: prev.endpoint_name,
    endpointId: prev.endpoint_id,
    changes: [],
    costMin: null,
    costMax: null,
    previous: prev,
  };
}
