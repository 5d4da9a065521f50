import type { ConsolaInstance, ConsolaOptions, ConsolaReporter, LogObject } from "consola";
import { createConsola as createCore } from "consola/core";
import { fstatSync, statSync, writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import { setting } from "./settings";
import { lineReset } from "./spinner";

/**
 * A write-only stream on a file descriptor. Bun builds `process.stdout` lazily and that first access costs ~20 ms
 * of start-up; writing to the descriptor directly avoids it (and keeps log lines in order with each other).
 */
function fdStream(fd: 1 | 2): NodeJS.WriteStream {
  const write = (line: string): boolean => {
    // A spinner drawn at the terminal is cleared first, so the line starts at column 0 (the spinner redraws below).
    const text = lineReset() + line;
    try {
      writeSync(fd, text);
    } catch {
      // A full non-blocking pipe (EAGAIN): hand the line to the buffered stream instead of losing it.
      (fd === 1 ? process.stdout : process.stderr).write(text);
    }
    return true;
  };
  return { write } as unknown as NodeJS.WriteStream;
}

/**
 * Whether descriptor `fd` is a terminal: a character device other than /dev/null. Read from `fstat`, because
 * `node:tty` (and consola's full build, which imports it) loads Node's stream modules: ~16 ms of every start-up.
 */
function isTerminal(fd: 1 | 2): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isCharacterDevice() && stat.rdev !== statSync("/dev/null").rdev;
  } catch {
    return false;
  }
}

/** consola's basic reporter, line for line (`[type] [tag] message`, errors with their stack), minus its imports. */
const plainReporter: ConsolaReporter = {
  log(logObj: LogObject, ctx: { options: ConsolaOptions }) {
    const args = logObj.args.map((arg) => (arg && typeof arg.stack === "string" ? formatError(arg) : arg));
    const message = formatWithOptions({ ...ctx.options.formatOptions }, ...args);
    const line = [logObj.type, logObj.tag].filter(Boolean).map((x) => `[${x}]`);
    const text = `${[...line, message].join(" ")}\n`;
    (logObj.level < 2 ? ctx.options.stderr : ctx.options.stdout)?.write(text);
  },
};

function formatError(err: Error & { cause?: unknown }, level = 0): string {
  const message = err.message ?? String(err);
  const indent = "  ".repeat(level + 1);
  const cwd = `${process.cwd()}/`;
  const stack = (err.stack ?? "")
    .split("\n")
    .splice(message.split("\n").length)
    .map((l) => l.trim().replace("file://", "").replace(cwd, ""));
  const cause =
    err.cause instanceof Error ? `\n\n${"  ".repeat(level + 1)}[cause]: ${formatError(err.cause, level + 1)}` : "";
  return `${message}\n${stack.length ? indent + stack.join(`\n${indent}`) : ""}${cause}`;
}

const options = {
  level: Number(setting("FLASH_LOG_LEVEL")),
  formatOptions: { date: false, compact: true },
  stdout: fdStream(1),
  stderr: fdStream(2),
};

/**
 * The one logger of flash; every core module logs through it (never console.log). Icons and colours (consola's
 * fancy reporter) for a person at a terminal; plain `[type] message` lines for pipes, CI and tests, without loading
 * consola's full build (it costs ~16 ms of start-up, and its fancy reporter ~10 ms more on its first line).
 * FORCE_COLOR=1 (which the CLI sets when asked for colour) picks the fancy one even into a pipe.
 */
export const log: ConsolaInstance =
  (isTerminal(1) && !process.env.CI && !process.env.NO_COLOR) || process.env.FORCE_COLOR === "1"
    ? (require("consola") as typeof import("consola")).createConsola({
        ...options,
        fancy: true,
      } as Partial<ConsolaOptions>)
    : createCore({
        ...options,
        reporters: [plainReporter],
        // Prompts are for terminals; should one be asked here, consola's full build answers it.
        prompt: (message: string, opts: object) => import("consola").then((m) => m.consola.prompt(message, opts)),
      } as Partial<ConsolaOptions>);

/**
 * A child logger tagged with a name, for examples and subsystems. It follows the main logger's current level and
 * reporters (a `withTag` child made at import time would keep the ones of that moment, so `--verbose` and test
 * captures would miss its lines).
 */
export function logger(tag: string): ConsolaInstance {
  // The child is made again only when the main logger's level, reporters or streams changed since: making one per
  // log line (a new consola instance each time) would cost on every request that logs, even a filtered debug line.
  let child: Record<PropertyKey, unknown> | undefined;
  let made: unknown[] = [];
  const current = () => {
    const now = [log.level, log.options.reporters, log.options.stdout, log.options.stderr];
    if (!child || now.some((v, i) => v !== made[i])) {
      child = log.withTag(tag) as unknown as Record<PropertyKey, unknown>;
      made = now;
    }
    return child;
  };
  return new Proxy({} as ConsolaInstance, {
    get: (_t, prop) => {
      const child = current();
      const value = child[prop];
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(child) : value;
    },
  });
}

/** Raise or lower verbosity: `verbose` shows debug lines, `quiet` only warnings and errors. */
export function setLogLevel(mode: "verbose" | "quiet" | "normal"): void {
  log.level = mode === "verbose" ? 4 : mode === "quiet" ? 1 : 3;
}
