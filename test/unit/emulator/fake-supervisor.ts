/**
 * An in-memory stand-in for `WorkerSupervisor` (the `Supervisor` the emulator's planes depend on): it starts no
 * process; the test plays the worker through the worker routes. It keeps what the planes tell it (attachments,
 * states, pings, stop requests, rescales) so a test can read them, and passes stop requests to the job store's
 * stop channel as the real one does for a worker that polls `job-stop`.
 */
import type { EmulatedEndpoint } from "../../../core/emulator/control-plane";
import type { JobStore } from "../../../core/emulator/job-store";
import {
  type EmulatorContext,
  emulatorContext,
  type Supervisor,
  type WorkerView,
} from "../../../core/emulator/planes/context";
import { emulatorApp } from "../../../core/emulator/server";
import type { Launch } from "../../../core/emulator/worker-env";

/** A worker the fake knows of: one that called a worker route. */
interface FakeWorker extends WorkerView {
  endpointId: string;
  pings: number;
  stopChannel: boolean;
}

/** The fake: every worker is one the test attached by calling a worker route. */
export class FakeSupervisor implements Supervisor {
  readonly workers = new Map<string, FakeWorker>();
  readonly rescaled: string[] = [];
  readonly stopRequests: { workerId: string | undefined; jobId: string; reason: string; timedOut: boolean }[] = [];

  constructor(private readonly store: JobStore) {}

  attach(endpointId: string, workerId: string): FakeWorker | undefined {
    const known = this.workers.get(workerId);
    if (known) return known.endpointId === endpointId ? known : undefined;
    const w: FakeWorker = {
      id: workerId,
      endpointId,
      state: "idle",
      startedAt: Date.now(),
      inflight: 0,
      pings: 0,
      stopChannel: false,
    };
    this.workers.set(workerId, w);
    return w;
  }

  taking(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) w.state = "idle";
  }

  running(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) w.state = "running";
  }

  pinged(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) w.pings++;
  }

  listensForStops(workerId: string): void {
    const w = this.workers.get(workerId);
    if (w) w.stopChannel = true;
  }

  stopJob(workerId: string | undefined, jobId: string, reason: string, timedOut = false): void {
    this.stopRequests.push({ workerId, jobId, reason, timedOut });
    if (workerId && this.workers.get(workerId)?.stopChannel) this.store.requestStop(workerId, jobId);
  }

  rescale(endpointId: string): void {
    this.rescaled.push(endpointId);
  }

  counts(endpointId: string) {
    const mine = this.alive(endpointId);
    const running = mine.filter((w) => w.state === "running").length;
    return { idle: mine.length - running, initializing: 0, ready: 0, running, throttled: 0, unhealthy: 0 };
  }

  alive(endpointId: string): FakeWorker[] {
    return [...this.workers.values()].filter((w) => w.endpointId === endpointId);
  }

  async acquireLb(): Promise<WorkerView | undefined> {
    return undefined;
  }

  releaseLb(): void {}

  launch(): Launch {
    return { kind: "external" };
  }

  attachEnv(endpoint: EmulatedEndpoint): Record<string, string> {
    return { RUNPOD_ENDPOINT_ID: endpoint.id };
  }
}

/** The emulator's app on a fake supervisor; `endpoint()` adds a queue endpoint, `close()` stops the store's timers. */
export function fakeEmulator(apiKey: string, opts: { takeHoldMs?: number } = {}) {
  const ctx: EmulatorContext<FakeSupervisor> = emulatorContext(
    { apiKey, takeHoldMs: opts.takeHoldMs ?? 0, minSyncWaitMs: 0 },
    () => "http://emulator.test",
    ({ store }) => new FakeSupervisor(store),
  );
  let n = 0;
  return {
    ctx,
    app: emulatorApp(ctx),
    /** A new endpoint (a fresh queue, no workers). */
    endpoint(fields: Record<string, unknown> = {}) {
      const name = `unit-${++n}`;
      return ctx.control.saveEndpoint({
        name,
        template: { name: `${name}-tpl`, imageName: "me/worker:1", containerDiskInGb: 10, env: [] },
        workersMax: 1,
        ...fields,
      });
    },
    close() {
      ctx.store.close();
      ctx.flashApps.close();
    },
  };
}
