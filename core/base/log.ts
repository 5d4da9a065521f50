import { createConsola, type ConsolaInstance, type ConsolaOptions } from "consola";
import { writeSync } from "node:fs";
import { isatty } from "node:tty";
import { setting } from "./settings";

/**
 * A write-only stream on a file descriptor. Bun builds `process.stdout` lazily and that first access costs ~20 ms
 * of start-up; writing to the descriptor directly avoids it (and keeps log lines in order with each other).
 */
function fdStream(fd: 1 | 2): NodeJS.WriteStream {
  const write = (text: string): boolean => {
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

/** The one logger of flash; every core module logs through it (never console.log). */
export const log: ConsolaInstance = createConsola({
  level: Number(setting("FLASH_LOG_LEVEL")),
  // Icons and colours for a person at a terminal; plain `[type] message` lines for pipes, CI and tests
  // (the fancy reporter also costs ~10 ms on its first line).
  fancy: isatty(1) && !process.env.CI,
  formatOptions: { date: false, compact: true },
  stdout: fdStream(1),
  stderr: fdStream(2),
} as Partial<ConsolaOptions> & { fancy: boolean }); // `fancy` is read by createConsola but missing from its types

/**
 * A child logger tagged with a name, for examples and subsystems. It follows the main logger's current level and
 * reporters (a `withTag` child made at import time would keep the ones of that moment, so `--verbose` and test
 * captures would miss its lines).
 */
export function logger(tag: string): ConsolaInstance {
  return new Proxy({} as ConsolaInstance, {
    get: (_t, prop) => {
      const child = log.withTag(tag) as unknown as Record<PropertyKey, unknown>;
      const value = child[prop];
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(child) : value;
    },
  });
}

/** Raise or lower verbosity: `verbose` shows debug lines, `quiet` only warnings and errors. */
export function setLogLevel(mode: "verbose" | "quiet" | "normal"): void {
  log.level = mode === "verbose" ? 4 : mode === "quiet" ? 1 : 3;
}
