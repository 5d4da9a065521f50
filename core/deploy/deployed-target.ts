/**
 * The target of a deployed mothership: each `remote()` call goes to the deployed endpoint of its resource, with
 * no code (the worker imports the function from the artifact). Endpoints are found through the environment, as
 * the Python SDK's deployed "state manager" does (GraphQL `flashEnvironment { endpoints }`, cached, looked up
 * again on a miss; runpod/flash src/runpod_flash/runtime/state_manager_client.py).
 */
import { relative, sep } from "node:path";
import type { FunctionRequest, FunctionResponse, OnChunk, RemoteFunctionRef } from "../remote/protocol";
import type { Target } from "../remote/target";
import { RunpodGraphql } from "../runpod/graphql";
import { RunpodHttp } from "../runpod/http";
import { jobFailure, readNdjsonCall, responseOf, RunpodJobs, type WaitPolicy } from "../runpod/jobs";
import { EMPTY_INPUT_MESSAGE, isEmptyInput } from "../runpod/platform";
import { lbUrl, type RunpodUrls } from "../runpod/connection";
import { FlashAppClient } from "./flash-app-client";
import type { Manifest } from "./manifest";
import { deployedEndpointName } from "./plan";

/** The job input of a call to a deployed queue endpoint: which declared function, and its arguments. */
export interface DeployedCall {
  flash: "deployed";
  module: string;
  name: string;
  args: unknown[];
  instanceId?: string;
  methodName?: string;
  constructorArgs?: unknown[];
  /** A generator: the worker posts each chunk to job-stream as it is yielded. */
  stream?: boolean;
}

/** Options of a deployed target. */
export interface DeployedTargetOptions {
  apiKey: string;
  urls: RunpodUrls;
  environmentId: string;
  environmentName: string;
  /** Where the artifact is unpacked (module paths are relative to it). */
  appDir: string;
  manifest: Manifest;
  /**
   * The app's endpoints, endpoint name → id, as the deploy put them in the mothership's env (FLASH_ENDPOINTS):
   * found there first, so the mothership needs no control-plane lookup (and a Restricted key will do).
   */
  endpointIds?: Record<string, string>;
  /** How calls wait (a load balancer's cold start: RunpodJobs' WaitPolicy; tests shorten the pause). */
  wait?: WaitPolicy;
}

/** Calls the app's deployed endpoints. */
export class DeployedTarget implements Target {
  readonly name = "deployed";
  private readonly http: RunpodHttp;
  private readonly jobs: RunpodJobs;
  private readonly apps: FlashAppClient;
  private endpoints?: Promise<Map<string, string>>;
  private readonly stats = { calls: 0, failed: 0 };

  constructor(private readonly opts: DeployedTargetOptions) {
    this.http = new RunpodHttp(opts.apiKey);
    this.jobs = new RunpodJobs(this.http, opts.urls, opts.wait);
    this.apps = new FlashAppClient(new RunpodGraphql(this.http, opts.urls.apiBaseUrl));
  }

  /** Endpoint id by endpoint name, from the environment (refreshed when a name is missing). */
  private async endpointId(endpointName: string): Promise<string> {
    const known = this.opts.endpointIds?.[endpointName];
    if (known) return known;
    for (let attempt = 0; attempt < 2; attempt++) {
      this.endpoints ??= this.apps
        .environment(this.opts.environmentId)
        .then((env) => new Map((env.endpoints ?? []).map((e) => [e.name, e.id])));
      let map: Map<string, string>;
      try {
        map = await this.endpoints;
      } catch (err) {
        this.endpoints = undefined;
        throw err;
      }
      const id = map.get(endpointName);
      if (id) return id;
      this.endpoints = undefined;
    }
    throw new Error(`no endpoint ${endpointName} in environment ${this.opts.environmentName}: run flash deploy`);
  }

  async call(
    fn: RemoteFunctionRef,
    req: FunctionRequest,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    this.stats.calls++;
    try {
      const resource = this.opts.manifest.resources[fn.config.name];
      if (!resource) throw new Error(`resource ${fn.config.name} is not part of this deploy`);
      const module = relative(this.opts.appDir, fn.module).split(sep).join("/");
      const declared = resource.functions.find((f) => f.module === module && f.name === fn.name);
      if (!declared) throw new Error(`${module}#${fn.name} is not a declared function of ${fn.config.name}`);
      const id = await this.endpointId(deployedEndpointName(resource, this.opts.environmentName));
      const res = resource.is_load_balanced
        ? await this.lbCall(id, declared.method ?? "POST", declared.path ?? "/", req.args, signal, onChunk)
        : resource.resource_type.includes("Live")
          ? await this.queueCall(id, { module, name: fn.name, req }, signal, onChunk)
          : await this.rawCall(id, req, signal, onChunk);
      if (!res.success) this.stats.failed++;
      return res;
    } catch (err) {
      this.stats.failed++;
      const e = err as Error;
      return { success: false, error: { name: e?.name ?? "Error", message: e?.message ?? String(err) } };
    }
  }

  private async queueCall(
    endpointId: string,
    call: { module: string; name: string; req: FunctionRequest },
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    const input: DeployedCall = { flash: "deployed", module: call.module, name: call.name, args: call.req.args };
    if (call.req.instanceId) input.instanceId = call.req.instanceId;
    if (call.req.methodName) input.methodName = call.req.methodName;
    if (call.req.constructorArgs) input.constructorArgs = call.req.constructorArgs;
    if (call.req.stream) {
      input.stream = true;
      const job = await this.jobs.submitAndStream(endpointId, input, (c) => onChunk?.(c), { signal });
      return responseOf(job, call.name);
    }
    const job = await this.jobs.submitAndWait(endpointId, input, { signal, mode: "runsync" });
    return responseOf(job, call.name);
  }

  /**
   * A custom image's call (`ServerlessEndpoint`, `CpuServerlessEndpoint`): its own handler gets the first argument as
   * the raw job `input` and its `output` is the result, as on the live path (runpod/flash docs/GPU_Provisioning.md,
   * "Custom image, raw JSON only"); the image has no flash worker to read a deployed call.
   */
  private async rawCall(
    endpointId: string,
    req: FunctionRequest,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    const input = req.args[0] ?? null;
    // Runpod leaves such a job in the queue until it times out: refused here, as runpod/flash does.
    if (isEmptyInput(input))
      return { success: false, error: { name: "InputError", message: EMPTY_INPUT_MESSAGE, status: 400 } };
    const job = req.stream
      ? await this.jobs.submitAndStream(endpointId, input, (c) => onChunk?.(c), { signal })
      : await this.jobs.submitAndWait(endpointId, input, { signal, mode: "runsync" });
    if (job.status === "COMPLETED")
      return req.stream ? { success: true, result: null } : { success: true, result: job.output ?? null };
    return jobFailure(job);
  }

  /**
   * A load-balanced function is its route: the arguments travel as `{"args": [...]}` (the first one as the query for
   * GET), through the live path's load-balancer client, so a cold start is waited out as for `--target runpod`.
   */
  private async lbCall(
    endpointId: string,
    method: string,
    path: string,
    args: unknown[],
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    const m = method.toUpperCase();
    const arg = args[0];
    let route = path;
    if ((m === "GET" || m === "HEAD") && arg && typeof arg === "object") {
      const q = new URLSearchParams(Object.entries(arg).map(([k, v]) => [k, String(v)])).toString();
      if (q) route += `?${q}`;
    }
    const res = await this.jobs.lbRequest(
      endpointId,
      {
        method: m,
        path: route,
        body: m === "GET" || m === "HEAD" ? undefined : { args },
        headers: { "x-flash-args": "1" },
      },
      signal,
    );
    if (res.ok && res.headers.get("content-type")?.includes("application/x-ndjson")) {
      return readNdjsonCall(res, onChunk, lbUrl(this.opts.urls, endpointId, route)); // a generator's route, streamed (worker/ndjson.ts)
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (res.ok) return { success: true, result: body };
    const b = (body && typeof body === "object" ? body : {}) as { error?: string; message?: string };
    return {
      success: false,
      error: {
        name: typeof b.error === "string" ? b.error : "Error",
        message: b.message ?? String(text).slice(0, 500),
        status: res.status,
      },
    };
  }

  async shutdown(): Promise<void> {}

  status(): unknown {
    return { target: this.name, environment: this.opts.environmentName, calls: { ...this.stats } };
  }
}
