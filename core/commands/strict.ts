/**
 * Unknown flags are an error, not ignored: `flash deploy --dryrun --yes` must not deploy for real. Every command
 * is wrapped so that, before it runs, each `--flag` of its raw arguments is checked against the flags it declares
 * (names, aliases, `--no-` for booleans, `--flag=value`); an unknown one ends the process with exit code 2 (the
 * usage-error code of getopt-style tools) and the nearest declared flag as a suggestion.
 */
import type { ArgsDef, CommandDef } from "citty";
import { log } from "../base/log";

/** The flags a command accepts, as typed on the command line (without dashes). */
function knownFlags(args: ArgsDef): Set<string> {
  const known = new Set(["help", "h"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    for (const n of [name, kebab, camel]) {
      known.add(n);
      if (def.type === "boolean") known.add(`no-${n}`);
    }
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const a of aliases) known.add(a);
  }
  return known;
}

/** Edit distance between two short strings (for the suggestion). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

/** The declared flag nearest to `flag`, when it is near enough to be a typo. */
function suggestion(flag: string, known: Set<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    if (name.length < 2 || name.startsWith("no-")) continue;
    const d = distance(flag, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(flag.length / 3)) ? best.name : undefined;
}

/** The unknown flags among `rawArgs` (up to a `--`, after which arguments belong to another program). */
function unknownFlags(rawArgs: string[], args: ArgsDef): { flag: string; hint?: string }[] {
  const known = knownFlags(args);
  const out: { flag: string; hint?: string }[] = [];
  for (const raw of rawArgs) {
    if (raw === "--") break;
    if (!raw.startsWith("-") || raw === "-" || /^-\d/.test(raw)) continue;
    const name = raw.replace(/^--?/, "").split("=")[0]!;
    if (raw.startsWith("--") ? known.has(name) : [...name].every((c) => known.has(c))) continue;
    out.push({ flag: raw.split("=")[0]!, hint: suggestion(name, known) });
  }
  return out;
}

/** Index of the subcommand's name in `rawArgs` (the first argument that names one), or -1. */
function subCommandIndex(rawArgs: string[], names: string[]): number {
  return rawArgs.findIndex((a) => names.includes(a));
}

/** The command, and each of its subcommands, refusing flags they do not declare. */
export function strict(cmd: CommandDef<any>, path = "flash"): CommandDef<any> {
  const subCommands = cmd.subCommands;
  return {
    ...cmd,
    subCommands: subCommands
      ? async () => {
          const resolved = await (typeof subCommands === "function" ? subCommands() : subCommands);
          const out: Record<string, () => Promise<CommandDef<any>>> = {};
          for (const [name, sub] of Object.entries(resolved)) {
            out[name] = async () =>
              strict(await (typeof sub === "function" ? (sub as () => any)() : sub), `${path} ${name}`);
          }
          return out;
        }
      : undefined,
    async setup(context) {
      const args = (await (typeof cmd.args === "function" ? cmd.args() : cmd.args)) ?? {};
      let own = context.rawArgs;
      if (subCommands) {
        const names = Object.keys(await (typeof subCommands === "function" ? subCommands() : subCommands));
        const at = subCommandIndex(own, names);
        if (at >= 0) own = own.slice(0, at);
      }
      const unknown = unknownFlags(own, args);
      if (unknown.length) {
        for (const u of unknown) {
          log.error(`unknown flag ${u.flag} for ${path}${u.hint ? `: did you mean --${u.hint}?` : ""}`);
        }
        log.info(`see ${path} --help for its flags`);
        process.exit(2);
      }
      await cmd.setup?.(context);
    },
  };
}
