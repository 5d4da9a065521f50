/**
 * Progress of a transfer of known size (the deploy upload): bytes done of the total, the rate and the time left. At
 * a terminal it is the spinner's one updating line; into a pipe, a plain line every `everyMs` and one at the end,
 * so a CI log shows the upload moving without control characters.
 */
import { formatBytes } from "./bytes";
import { formatSeconds, type SpinnerOptions, startSpinner } from "./spinner";

/** A transfer under way: tell it the bytes done so far, then that it ended. */
export interface TransferProgress {
  /** `done` bytes of the total have gone. */
  advance(done: number): void;
  /** The transfer ended (`failed`: it did not complete). */
  end(failed?: boolean): void;
}

/** `12.0 MiB / 50.0 MiB (24 %), 5.1 MiB/s, ETA 8 s`. */
export function describeTransfer(done: number, total: number, elapsedMs: number): string {
  const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const left = rate > 0 ? ((total - done) / rate) * 1000 : Number.NaN;
  const eta =
    done >= total ? `in ${formatSeconds(elapsedMs)}` : Number.isFinite(left) ? `ETA ${formatSeconds(left)}` : "";
  return `${formatBytes(done)} / ${formatBytes(total)} (${pct} %), ${formatBytes(Math.round(rate))}/s${eta ? `, ${eta}` : ""}`;
}

/**
 * Report a transfer of `total` bytes as `label: <describeTransfer>`. `plain` gets the lines outside a terminal
 * (none when it is not given: `--json`); `everyMs` spaces them (5 s).
 */
export function transferProgress(
  label: string,
  total: number,
  opts: SpinnerOptions & { everyMs?: number } = {},
): TransferProgress {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const tty = !!(opts.stream ?? process.stderr).isTTY && !process.env.NO_COLOR;
  const line = (done: number) => `${label}: ${describeTransfer(done, total, now() - started)}`;
  if (tty) {
    const spinner = startSpinner(line(0), { ...opts, plain: undefined });
    return { advance: (done) => spinner.update(line(done)), end: (failed) => spinner.stop(failed) };
  }
  let last = started;
  let done = 0;
  return {
    advance: (d) => {
      done = d;
      if (d >= total || now() - last < (opts.everyMs ?? 5000)) return;
      last = now();
      opts.plain?.(line(d));
    },
    end: (failed) => {
      if (!failed || done > 0) opts.plain?.(line(done));
    },
  };
}
