/**
 * The one-line spinner for long waits at a terminal (`flash init`'s install, a call waiting for a worker, the deploy
 * upload): the frame, the current reason and the time elapsed, redrawn in place; cleared when the work ends. Into a
 * pipe (or under NO_COLOR's plain output) it draws nothing, so logs and scripts see no control characters; a caller
 * that wants a trace there passes `plain`, which gets one line when the wait begins and one when it ends.
 */

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Where the spinner draws: stderr by default. */
interface SpinnerStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** A running spinner: change its reason while the work goes on. */
export interface Spinner {
  /** The reason shown from now on ("waiting for a worker", "installing sharp"). */
  update(reason: string): void;
}

/** How a spinner draws and what it says outside a terminal. */
export interface SpinnerOptions {
  /** Where it draws (stderr). */
  stream?: SpinnerStream;
  /** Redraw period, ms (100). */
  intervalMs?: number;
  /** The clock, ms (tests pass a fake one). */
  now?: () => number;
  /** Outside a terminal: told `"<reason>"` when the wait begins and `"<reason>: done in 12.3 s"` when it ends. */
  plain?: (line: string) => void;
  /** When the wait began, on `now`'s clock (default: now). */
  startedAt?: number;
}

/** Whether a spinner is drawn right now (a log line written meanwhile first clears it: `lineReset`). */
let drawn = 0;

/** What a log line must start with so that it does not land after a spinner's text ("" when none is drawn). */
export function lineReset(): string {
  return drawn > 0 ? "\r\x1b[K" : "";
}

/** Seconds for people: `0.4 s`, `12 s`, `3 min 05 s`. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}

/** Start a spinner showing `reason`; `stop()` clears it (and, outside a terminal, reports the duration). */
export function startSpinner(reason: string, opts: SpinnerOptions = {}): Spinner & { stop(failed?: boolean): void } {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const started = opts.startedAt ?? now();
  let current = reason;
  if (!stream.isTTY || process.env.NO_COLOR) {
    opts.plain?.(reason);
    return {
      update: (r) => void (current = r),
      stop: (failed) =>
        opts.plain?.(`${current}: ${failed ? "gave up after" : "done in"} ${formatSeconds(now() - started)}`),
    };
  }
  let frame = 0;
  const draw = () => {
    const seconds = ((now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${current} (${seconds}s)`);
  };
  drawn++;
  draw();
  const timer = setInterval(draw, opts.intervalMs ?? 100);
  let stopped = false;
  return {
    update: (r) => {
      if (r === current) return;
      current = r;
      if (!stopped) draw();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      drawn--;
      stream.write("\r\x1b[K");
    },
  };
}

/**
 * Run `work` with a spinner showing `reason` and the elapsed seconds; returns what `work` returns. Draws only when
 * the stream is a terminal and colour is on.
 */
export async function withSpinner<T>(
  reason: string,
  work: (spinner: Spinner) => Promise<T>,
  opts: SpinnerOptions = {},
): Promise<T> {
  const spinner = startSpinner(reason, opts);
  let failed = true;
  try {
    const result = await work(spinner);
    failed = false;
    return result;
  } finally {
    spinner.stop(failed);
  }
}

/** A wait that may overlap with others (calls waiting for workers): its reason can change until it ends. */
export interface Wait {
  /** The reason shown from now on. */
  update(reason: string): void;
  /** The wait is over: outside a terminal, `summary` is logged (with the duration appended). */
  end(summary: string): void;
}

interface ActiveWait {
  reason: string;
  started: number;
}

/** The waits under way, oldest first; one spinner shows the oldest (and how many more). */
const waits: ActiveWait[] = [];
let board: { spinner: ReturnType<typeof startSpinner>; for: ActiveWait } | undefined;

/**
 * Begin a wait that may run beside others: at a terminal, one spinner line shows the oldest wait's reason and
 * elapsed time ("+2 more" when others wait too); outside one, `plain` gets the reason now and the end's summary
 * with the duration ("… after 12.3 s"). `startedAt` (on `now`'s clock) is when the wait really began.
 */
export function beginWait(reason: string, opts: SpinnerOptions & { startedAt?: number } = {}): Wait {
  const now = opts.now ?? (() => performance.now());
  const self: ActiveWait = { reason, started: opts.startedAt ?? now() };
  const tty = !!(opts.stream ?? process.stderr).isTTY && !process.env.NO_COLOR;
  if (!tty) {
    opts.plain?.(reason);
    let ended = false;
    return {
      update: (r) => void (self.reason = r),
      end: (summary) => {
        if (ended) return;
        ended = true;
        opts.plain?.(`${summary} after ${formatSeconds(now() - self.started)}`);
      },
    };
  }
  const text = () => `${waits[0]!.reason}${waits.length > 1 ? ` (+${waits.length - 1} more)` : ""}`;
  const redraw = () => {
    if (board && board.for !== waits[0]) {
      board.spinner.stop();
      board = undefined;
    }
    if (!waits.length) return;
    if (!board)
      board = {
        spinner: startSpinner(text(), { ...opts, plain: undefined, startedAt: waits[0]!.started }),
        for: waits[0]!,
      };
    else board.spinner.update(text());
  };
  waits.push(self);
  redraw();
  let ended = false;
  return {
    update: (r) => {
      self.reason = r;
      if (!ended) redraw();
    },
    end: () => {
      if (ended) return;
      ended = true;
      waits.splice(waits.indexOf(self), 1);
      redraw();
    },
  };
}
