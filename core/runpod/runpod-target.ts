import { logger } from "../base/log";
/**
 * The `runpod` and `emulator` targets: each remote call provisions (once) the endpoint of its resource config,
 * ships the function's bundled module with the call, and waits for the result over Runpod's HTTP API. The
 * emulator target is the same client pointed at a local emulator started in this process.
 */
import { join } from "node:path";
import type { FunctionRequest, FunctionResponse, OnChunk, RemoteFunctionRef } from "../remote/protocol";
import type { Target } from "../remote/target";
import { Bundler } from "./bundle";
import { EMPTY_INPUT_MESSAGE, isEmptyInput } from "./platform";
import { RunpodHttp, redact, type RetryPolicy } from "./http";
import { jobFailure, responseOf, RunpodJobs, type DispatchMode, type WaitPolicy } from "./jobs";
import { Provisioner, type CleanupSummary, type Provisioned } from "./provision";
import { RunpodRestV2 } from "./rest-v2";
import { RunpodCatalog } from "./catalog";
import { workspaceId } from "./state";
import { workerProgram } from "./worker-program";
import type { BuiltBundle } from "./bundle";
import { requireApiKey, runpodUrls, type RunpodUrls } from "./connection";
import type { ShippedCall } from "./api";
import { setting } from "../base/settings";

const tlog = logger("runpod");

/** Options of a Runpod target. */
export interface RunpodTargetOptions {
  name?: "runpod" | "emulator";
  apiKey: string;
  urls: RunpodUrls;
  /** Workspace root: bundles name modules relative to it; the state file lives in `<root>/.flash/`. */
  root: string;
  statePath?: string;
  /** Dev session (`live-` endpoints removed on shutdown); default true. */
  live?: boolean;
  dispatch?: DispatchMode;
  retry?: RetryPolicy;
  /** Bounds and explanations of waits (queue, cold start). */
  wait?: WaitPolicy;
}

/** Calls remote functions on Runpod serverless endpoints (or an emulator of them). */
export class RunpodTarget implements Target {
  readonly name: string;
  readonly provisioner: Provisioner;
  readonly jobs: RunpodJobs;
  readonly bundler: Bundler;
  /** Runpod's GPU catalog (pool stock for queue-wait explanations). */
  private readonly catalog: RunpodCatalog;
  private readonly apiKey: string;
  private readonly dispatch: DispatchMode;
  private stopped?: Promise<void>;
  /** `endpointId:hash` of code a worker of that endpoint has received (later calls send the hash only). */
  private readonly sent = new Set<string>();
  /** Bytes of flash calls sent (the benchmark reads it). */
  bytesSent = 0;
  private readonly stats = { calls: 0, failed: 0, inflight: 0 };

  constructor(opts: RunpodTargetOptions) {
    this.name = opts.name ?? "runpod";
    this.apiKey = opts.apiKey;
    const http = new RunpodHttp(opts.apiKey, opts.retry);
    const statePath = opts.statePath ?? join(opts.root, ".flash", "resources.json");
    const rest = new RunpodRestV2(http, opts.urls.apiBaseUrl);
    this.catalog = new RunpodCatalog(rest);
    this.provisioner = new Provisioner({
      rest,
      statePath,
      apiBaseUrl: opts.urls.apiBaseUrl,
      live: opts.live ?? true,
      workspace: workspaceId(join(opts.root, ".flash")),
      program: workerProgram,
    });
    this.jobs = new RunpodJobs(http, opts.urls, opts.wait);
    this.bundler = new Bundler(opts.root);
    this.dispatch = opts.dispatch ?? "auto";
  }

  /** Run one call on the function's endpoint; infrastructure failures come back as `success: false`, never thrown. */
  async call(
    fn: RemoteFunctionRef,
    req: FunctionRequest,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    this.stats.calls++;
    this.stats.inflight++;
    try {
      const endpoint = await this.provisioner.ensure(fn.config);
      const res = endpoint.live
        ? await this.flashCall(fn, req, endpoint, signal, onChunk)
        : await this.rawCall(fn, req, endpoint, signal, onChunk);
      if (!res.success) this.stats.failed++;
      // What the function printed on the worker, shown here as the local pool shows it (after the call).
      for (const line of res.stdout?.split("\n") ?? []) tlog.log(`${fn.name}: ${redact(line, this.apiKey)}`);
      return res;
    } catch (err) {
      this.stats.failed++;
      const e = err as Error;
      const message = redact(String(e?.message ?? err), this.apiKey);
      tlog.debug(`call to ${fn.name} failed: ${message}`);
      return { success: false, error: { name: e?.name ?? "Error", message } };
    } finally {
      this.stats.inflight--;
    }
  }

  /**
   * A live config's call: the function's bundle and request (plus, for a default-image endpoint, the worker
   * program). Code travels once per endpoint and content hash; later calls name it by hash, and a worker that lacks
   * it (a new worker) answers `missing` without running anything, so the call is sent again once with the code.
   */
  private async flashCall(
    fn: RemoteFunctionRef,
    req: FunctionRequest,
    endpoint: Provisioned,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    const bundle = await this.bundler.bundle(fn.module, fn.options.dependencies ?? []);
    const program = endpoint.bootstrap ? await workerProgram() : undefined;
    const key = (hash: string) => `${endpoint.endpointId}:${hash}`;
    const send = async (withCode: Set<string>): Promise<FunctionResponse & { missing?: string[] }> => {
      const shipped: ShippedCall = {
        flash: 1,
        bundle: codeOf(bundle, withCode.has("bundle")),
        request: { ...req, module: bundle.path },
      };
      if (program) shipped.worker = withCode.has("worker") ? program : { hash: program.hash };
      this.bytesSent += JSON.stringify(shipped).length;
      if (endpoint.type === "LB") {
        return this.jobs.lbCall(
          endpoint.endpointId,
          fn.options.method ?? "POST",
          fn.options.path ?? "/execute",
          shipped,
          signal,
          onChunk,
        );
      }
      const options = {
        signal,
        mode: this.dispatch,
        executionTimeoutMs: fn.config.executionTimeoutMs,
        stock: () => this.catalog.stockOf(endpoint.pools),
      };
      // A generator: its worker posts each chunk to job-stream as it is yielded; /stream/{job} hands them over.
      const job = req.stream
        ? await this.jobs.submitAndStream(endpoint.endpointId, shipped, (c) => onChunk?.(c), options)
        : await this.jobs.submitAndWait(endpoint.endpointId, shipped, options);
      return responseOf(job, fn.name);
    };
    const first = new Set<string>();
    if (!this.sent.has(key(bundle.hash))) first.add("bundle");
    if (program && !this.sent.has(key(program.hash))) first.add("worker");
    let res = await send(first);
    if (res.missing?.length) {
      tlog.debug(`${fn.name}: a worker lacked ${res.missing.join(", ")}; sending the call again with the code`);
      res = await send(new Set(["bundle", ...(program ? ["worker"] : [])]));
    }
    if (!res.missing?.length) {
      this.sent.add(key(bundle.hash));
      if (program) this.sent.add(key(program.hash));
    } else {
      return {
        success: false,
        error: { name: "ProtocolError", message: `the worker still lacks ${res.missing.join(", ")} after it was sent` },
      };
    }
    return res;
  }

  /**
   * A custom-image config's call (`ServerlessEndpoint`, `CpuServerlessEndpoint`): the user's own handler gets the
   * first argument as its raw JSON `input` and its `output` is the result ("Custom image, raw JSON only": runpod/flash
   * docs/GPU_Provisioning.md, commit e693d7d5).
   */
  private async rawCall(
    fn: RemoteFunctionRef,
    req: FunctionRequest,
    endpoint: Provisioned,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    const options = {
      signal,
      mode: this.dispatch,
      executionTimeoutMs: fn.config.executionTimeoutMs,
      stock: () => this.catalog.stockOf(endpoint.pools),
    };
    const input = req.args[0] ?? null;
    // Runpod would hold such a job in the queue until it times out: refuse it here, as runpod/flash does.
    if (isEmptyInput(input))
      return { success: false, error: { name: "InputError", message: EMPTY_INPUT_MESSAGE, status: 400 } };
    // A generator declared for a custom image reads the handler's stream (a runpod-python generator handler's yields).
    const job = req.stream
      ? await this.jobs.submitAndStream(endpoint.endpointId, input, (c) => onChunk?.(c), options)
      : await this.jobs.submitAndWait(endpoint.endpointId, input, options);
    if (job.status === "COMPLETED")
      return req.stream ? { success: true, result: null } : { success: true, result: job.output ?? null };
    return jobFailure(job);
  }

  /** Hot reload: edited modules are bundled again on their next call (mtimes are checked anyway). */
  async recycle(): Promise<void> {
    this.bundler.clear();
  }

  /** Remove this session's `live-` endpoints; rejects (after logging the summary) when any removal failed. */
  shutdown(): Promise<void> {
    this.stopped ??= this.cleanup();
    return this.stopped;
  }

  /** The endpoints in use and call counters (shown on /health). */
  status(): unknown {
    return {
      target: this.name,
      endpoints: this.provisioner.endpoints(),
      provisioning: this.provisioner.counts,
      calls: { ...this.stats },
    };
  }

  protected async cleanup(): Promise<void> {
    const summary: CleanupSummary = await this.provisioner.cleanup();
    if (summary.removed || summary.failed) {
      const line = `${this.name}: removed ${summary.removed} live endpoint${summary.removed === 1 ? "" : "s"}, failed ${summary.failed}`;
      if (summary.failed) {
        for (const e of summary.errors) tlog.error(`could not remove ${redact(e, this.apiKey)}`);
        tlog.error(line);
        throw new Error(line);
      }
      tlog.success(line);
    }
  }
}

/** The dispatch mode a setting names (auto unless poll or runsync). */
export function dispatchMode(value: string | undefined): DispatchMode {
  return value === "poll" || value === "runsync" ? value : "auto";
}

/** Wait bounds from the settings (FLASH_RUNPOD_QUEUE_TIMEOUT_S: how long a call may wait for a worker). */
function waitPolicy(env: Record<string, string | undefined>): WaitPolicy {
  const s = Number(setting("FLASH_RUNPOD_QUEUE_TIMEOUT_S", env));
  return Number.isFinite(s) && s > 0 ? { queueTimeoutMs: s * 1000 } : {};
}

/** The `runpod` target `flash run --target runpod` names: Runpod itself, with RUNPOD_API_KEY. */
export async function createTarget(
  _name: "runpod",
  opts: { root: string; env?: Record<string, string | undefined> },
): Promise<RunpodTarget> {
  const env = opts.env ?? process.env;
  return new RunpodTarget({
    apiKey: requireApiKey(env, "Use --target emulator to try everything offline."),
    urls: runpodUrls(env),
    root: opts.root,
    dispatch: dispatchMode(setting("FLASH_RUNPOD_DISPATCH", env)),
    wait: waitPolicy(env),
  });
}

/** The bundle with its code, or by hash only. */
function codeOf(bundle: BuiltBundle, withCode: boolean): ShippedCall["bundle"] {
  if (withCode) return bundle;
  const { code: _code, ...byHash } = bundle;
  return byHash;
}
