import { createConsola, type ConsolaInstance } from "consola";

/** The one logger of flash; every core module logs through it (never console.log). */
export const log: ConsolaInstance = createConsola({
  level: Number(process.env.FLASH_LOG_LEVEL ?? 3),
  formatOptions: { date: false, compact: true },
});

/** A child logger tagged with a name, for examples and subsystems. */
export function logger(tag: string): ConsolaInstance {
  return log.withTag(tag);
}

/** Raise or lower verbosity: `verbose` shows debug lines, `quiet` only warnings and errors. */
export function setLogLevel(mode: "verbose" | "quiet" | "normal"): void {
  log.level = mode === "verbose" ? 4 : mode === "quiet" ? 1 : 3;
}
