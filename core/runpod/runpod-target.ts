import { logger } from "../base/log";
/**
 * The `runpod` and `emulator` targets: each remote call provisions (once) the endpoint of its resource config,
 * ships the function's bundled module with the call, and waits for the result over Runpod's HTTP API. The
 * emulator target is the same client pointed at a local emulator started in this process.
 */
import { join } from "node:path";
import type { FunctionRequest, FunctionResponse, RemoteFunctionRef } from "../remote/protocol";
import type { Target } from "../remote/target";
import type { Emulator } from "../emulator/server";
import { Bundler } from "./bundle";
import { RunpodGraphql } from "./graphql";
import { RunpodHttp, redact, type RetryPolicy } from "./http";
import { responseOf, RunpodJobs, type DispatchMode } from "./jobs";
import { Provisioner, type CleanupSummary } from "./provision";
import { requireApiKey, runpodUrls, type RunpodUrls } from "./settings";
import type { ShippedCall } from "./api";

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
}

/** Calls remote functions on Runpod serverless endpoints (or an emulator of them). */
export class RunpodTarget implements Target {
  readonly name: string;
  readonly provisioner: Provisioner;
  readonly jobs: RunpodJobs;
  readonly bundler: Bundler;
  private readonly apiKey: string;
  private readonly dispatch: DispatchMode;
  private stopped?: Promise<void>;
  private readonly stats = { calls: 0, failed: 0, inflight: 0 };

  constructor(opts: RunpodTargetOptions) {
    this.name = opts.name ?? "runpod";
    this.apiKey = opts.apiKey;
    const http = new RunpodHttp(opts.apiKey, opts.retry);
    this.provisioner = new Provisioner({
      graphql: new RunpodGraphql(http, opts.urls.apiBaseUrl),
      statePath: opts.statePath ?? join(opts.root, ".flash", "resources.json"),
      apiBaseUrl: opts.urls.apiBaseUrl,
      live: opts.live ?? true,
    });
    this.jobs = new RunpodJobs(http, opts.urls);
    this.bundler = new Bundler(opts.root);
    this.dispatch = opts.dispatch ?? "auto";
  }

  /** Run one call on the function's endpoint; infrastructure failures come back as `success: false`, never thrown. */
  async call(fn: RemoteFunctionRef, req: FunctionRequest, signal?: AbortSignal): Promise<FunctionResponse> {
    this.stats.calls++;
    this.stats.inflight++;
    try {
      const endpoint = await this.provisioner.ensure(fn.config);
      const bundle = await this.bundler.bundle(fn.module, fn.options.dependencies ?? []);
      const shipped: ShippedCall = { flash: 1, bundle, request: { ...req, module: bundle.path } };
      let res: FunctionResponse;
      if (endpoint.type === "LB") {
        res = await this.jobs.lbCall(
          endpoint.endpointId,
          fn.options.method ?? "POST",
          fn.options.path ?? "/execute",
          shipped,
          signal,
        );
      } else {
        const timeoutMs = fn.config.executionTimeoutMs > 0 ? fn.config.executionTimeoutMs + 60_000 : undefined;
        const job = await this.jobs.submitAndWait(endpoint.endpointId, shipped, {
          signal,
          mode: this.dispatch,
          timeoutMs,
        });
        res = responseOf(job, fn.name);
      }
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

/** The emulator target: a local Runpod emulator started in this process, driven by the same client. */
export class EmulatorTarget extends RunpodTarget {
  constructor(
    readonly emulator: Emulator,
    opts: Omit<RunpodTargetOptions, "apiKey" | "urls" | "name"> & { apiKey: string },
  ) {
    super({
      ...opts,
      name: "emulator",
      urls: {
        apiBaseUrl: emulator.apiBaseUrl,
        endpointBaseUrl: emulator.endpointBaseUrl,
        lbBaseUrl: emulator.lbBaseUrl,
      },
    });
  }

  protected override async cleanup(): Promise<void> {
    try {
      await super.cleanup();
    } finally {
      await this.emulator.stop();
    }
  }
}

function dispatchMode(value: string | undefined): DispatchMode {
  return value === "poll" || value === "runsync" ? value : "auto";
}

/** Build the target `flash run --target` names (`runpod` needs RUNPOD_API_KEY; `emulator` starts one). */
export async function createTarget(
  name: "runpod" | "emulator",
  opts: { root: string; env?: Record<string, string | undefined> },
): Promise<RunpodTarget> {
  const env = opts.env ?? process.env;
  if (name === "runpod") {
    return new RunpodTarget({
      apiKey: requireApiKey(env),
      urls: runpodUrls(env),
      root: opts.root,
      dispatch: dispatchMode(env.FLASH_RUNPOD_DISPATCH),
    });
  }
  const { startEmulator } = await import("../emulator/server");
  // A per-session key: the emulator is local, and the user's real key must never be sent to it.
  const apiKey = `emu_${crypto.randomUUID().replaceAll("-", "")}`;
  const emulator = startEmulator({
    apiKey,
    workers: { env: { FLASH_WORKER_CACHE: env.FLASH_WORKER_CACHE ?? join(opts.root, ".flash", "worker-cache") } },
  });
  tlog.info(`Runpod emulator on ${emulator.url} (endpoints appear on first call)`);
  return new EmulatorTarget(emulator, {
    apiKey,
    root: opts.root,
    statePath: join(opts.root, ".flash", "emulator-resources.json"),
    dispatch: dispatchMode(env.FLASH_RUNPOD_DISPATCH),
  });
}
