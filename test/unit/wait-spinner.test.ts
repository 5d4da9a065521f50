/** The spinner's rendering on a fake terminal with a fake clock: waits side by side, transfer progress, plain lines. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { describeTransfer, transferProgress } from "../../core/base/progress";
import { beginWait, formatSeconds, startSpinner } from "../../core/base/spinner";

let savedNoColor: string | undefined;
beforeEach(() => {
  savedNoColor = process.env.NO_COLOR;
  delete process.env.NO_COLOR;
});
afterEach(() => {
  if (savedNoColor !== undefined) process.env.NO_COLOR = savedNoColor;
});

/** A terminal that records what is drawn, and a clock the test moves. */
function fakes(isTTY = true) {
  const writes: string[] = [];
  let t = 1000;
  return {
    writes,
    stream: { isTTY, write: (s: string) => writes.push(s) },
    now: () => t,
    tick: (ms: number) => void (t += ms),
  };
}

test("a spinner draws the reason with the elapsed time, redraws on a new reason, clears at the end", () => {
  const f = fakes();
  const s = startSpinner("waiting for a worker (IN_QUEUE)", { stream: f.stream, now: f.now, intervalMs: 60_000 });
  f.tick(12_300);
  s.update("cold start: 1 worker is starting");
  s.stop();
  expect(f.writes).toEqual([
    "\r\x1b[K⠋ waiting for a worker (IN_QUEUE) (0.0s)",
    "\r\x1b[K⠙ cold start: 1 worker is starting (12.3s)",
    "\r\x1b[K",
  ]);
});

test("waits side by side share one line: the oldest with its own elapsed time, then the next one", () => {
  const f = fakes();
  const opts = { stream: f.stream, now: f.now, intervalMs: 60_000 };
  const a = beginWait("job a: waiting for a worker (IN_QUEUE)", { ...opts, startedAt: 0 });
  f.tick(500);
  const b = beginWait("job b: waiting for a worker (IN_QUEUE)", opts);
  expect(f.writes.at(-1)).toBe("\r\x1b[K⠙ job a: waiting for a worker (IN_QUEUE) (+1 more) (1.5s)");
  a.end("job a: a worker took it");
  // b's spinner counts from b's own start (1500), not from a's.
  f.tick(2000);
  b.update("job b: waiting for a worker: 1 worker is starting (cold start)");
  expect(f.writes.at(-1)).toBe("\r\x1b[K⠙ job b: waiting for a worker: 1 worker is starting (cold start) (2.0s)");
  b.end("job b: a worker took it");
  expect(f.writes.at(-1)).toBe("\r\x1b[K");
});

test("outside a terminal a wait is two plain lines, the second with its duration; nothing is drawn", () => {
  const f = fakes(false);
  const lines: string[] = [];
  const w = beginWait("job a: waiting for a worker (IN_QUEUE)", {
    stream: f.stream,
    now: f.now,
    plain: (l) => lines.push(l),
  });
  f.tick(12_000);
  w.update("job a: waiting for a worker: 1 worker is starting");
  w.end("job a: a worker took it");
  w.end("job a: twice");
  expect(lines).toEqual(["job a: waiting for a worker (IN_QUEUE)", "job a: a worker took it after 12 s"]);
  expect(f.writes).toEqual([]);
});

test("NO_COLOR keeps a terminal plain too", () => {
  process.env.NO_COLOR = "1";
  const f = fakes(true);
  const lines: string[] = [];
  beginWait("x", { stream: f.stream, now: f.now, plain: (l) => lines.push(l) }).end("x over");
  expect(f.writes).toEqual([]);
  expect(lines).toEqual(["x", "x over after 0.0 s"]);
});

test("transfer progress: bytes of the total, percent, rate and ETA; at a terminal one updating line", () => {
  expect(describeTransfer(0, 10 * 1024 * 1024, 0)).toBe("0 B / 10.0 MiB (0 %), 0 B/s");
  expect(describeTransfer(2 * 1024 * 1024, 10 * 1024 * 1024, 1000)).toBe(
    "2.0 MiB / 10.0 MiB (20 %), 2.0 MiB/s, ETA 4.0 s",
  );
  expect(describeTransfer(10 * 1024 * 1024, 10 * 1024 * 1024, 4000)).toBe(
    "10.0 MiB / 10.0 MiB (100 %), 2.5 MiB/s, in 4.0 s",
  );
  const f = fakes();
  const p = transferProgress("upload", 4 * 1024 * 1024, { stream: f.stream, now: f.now, intervalMs: 60_000 });
  f.tick(1000);
  p.advance(1024 * 1024);
  p.end();
  expect(f.writes).toEqual([
    "\r\x1b[K⠋ upload: 0 B / 4.0 MiB (0 %), 0 B/s (0.0s)",
    "\r\x1b[K⠙ upload: 1.0 MiB / 4.0 MiB (25 %), 1.0 MiB/s, ETA 3.0 s (1.0s)",
    "\r\x1b[K",
  ]);
  expect(formatSeconds(185_000)).toBe("3 min 05 s");
});

test("piped transfer progress: a line per period and the last one at 100 %", () => {
  const f = fakes(false);
  const lines: string[] = [];
  const p = transferProgress("upload", 3000, {
    stream: f.stream,
    now: f.now,
    everyMs: 5000,
    plain: (l) => lines.push(l),
  });
  f.tick(1000);
  p.advance(1000); // within the period: no line
  f.tick(4000);
  p.advance(2000);
  f.tick(1000);
  p.advance(3000);
  p.end();
  expect(lines).toEqual([
    "upload: 2.0 KiB / 2.9 KiB (66 %), 400 B/s, ETA 2.5 s",
    "upload: 2.9 KiB / 2.9 KiB (100 %), 500 B/s, in 6.0 s",
  ]);
});
