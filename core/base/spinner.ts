/**
 * A one-line spinner for long waits at a terminal (`flash init`'s install): the frame, the current reason and the
 * time elapsed, redrawn in place; cleared when the work ends. Into a pipe (or under NO_COLOR's plain output) it
 * draws nothing, so logs and scripts see no control characters.
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

/**
 * Run `work` with a spinner showing `reason` and the elapsed seconds; returns what `work` returns. Draws only when
 * `stream` is a terminal and colour is on; `intervalMs` is the redraw period.
 */
export async function withSpinner<T>(
  reason: string,
  work: (spinner: Spinner) => Promise<T>,
  stream: SpinnerStream = process.stderr,
  intervalMs = 100,
): Promise<T> {
  let current = reason;
  const spinner: Spinner = { update: (r) => void (current = r) };
  if (!stream.isTTY || process.env.NO_COLOR) return work(spinner);
  const started = performance.now();
  let frame = 0;
  const draw = () => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${current} (${seconds}s)`);
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  try {
    return await work(spinner);
  } finally {
    clearInterval(timer);
    stream.write("\r\x1b[K");
  }
}
