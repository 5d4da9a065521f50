/**
 * Every worker's log lines, as Runpod's v2 REST API serves them (the routes are `planes/worker-logs.ts`): numbered
 * frames of `source` "container" (the worker's stdout/stderr) or "system" (the platform's own lines: container
 * create, start, exit), kept after the worker exits, with listeners for the live streams.
 */
import type { EmulatedWorker } from "./supervisor";

/** One log line of one worker. */
export interface LogFrame {
  id: number;
  source: "container" | "system";
  line: string;
  ts: string;
}

interface WorkerLog {
  endpointId: string;
  frames: LogFrame[];
  listeners: Set<(f: LogFrame) => void>;
}

/** The API's cap on `tail` (runpodctl internal/api/logs.go LogTailMax). */
export const LOG_TAIL_MAX = 5000;
const KEEP_LINES = 10_000;

/** Every worker's log lines (kept after the worker exits, so a crash can be read afterwards). */
export class WorkerLogBook {
  private readonly logs = new Map<string, WorkerLog>();
  private seq = 0;

  /** Record one line of a worker. */
  record(worker: Pick<EmulatedWorker, "id" | "endpointId">, source: LogFrame["source"], line: string): void {
    const log = this.ensure(worker.id, worker.endpointId);
    const frame: LogFrame = { id: ++this.seq, source, line, ts: new Date().toISOString() };
    log.frames.push(frame);
    if (log.frames.length > KEEP_LINES) log.frames.splice(0, log.frames.length - KEEP_LINES);
    for (const l of log.listeners) l(frame);
  }

  /** The log of a worker, created empty when it has not printed anything yet. */
  ensure(workerId: string, endpointId: string): WorkerLog {
    let log = this.logs.get(workerId);
    if (!log) {
      log = { endpointId, frames: [], listeners: new Set() };
      this.logs.set(workerId, log);
    }
    return log;
  }

  /** Every line the workers of an endpoint printed, oldest first (what a crash left behind, too). */
  linesOf(endpointId: string): string[] {
    const frames = [...this.logs.values()].filter((l) => l.endpointId === endpointId).flatMap((l) => l.frames);
    return frames.sort((a, b) => a.id - b.id).map((f) => f.line);
  }

  /** Whether a worker of this endpoint ever logged. */
  knows(endpointId: string, workerId: string): boolean {
    return this.logs.get(workerId)?.endpointId === endpointId;
  }
}
