/** `--json` for scripts: one JSON document on stdout, with the field names README's "Output for scripts" lists. */
import { log } from "../base/log";

/** The `--json` flag of the commands that print something a script reads. */
export const jsonArg = {
  json: {
    type: "boolean" as const,
    description: "Print one JSON document instead of text (field names in README: Output for scripts)",
    default: false,
  },
};

/** The real stdout, kept before `narrateToStderr` turns process.stdout's writes aside. */
const stdoutWrite = process.stdout.write.bind(process.stdout);

/** Write `value` as JSON (two-space indented, one trailing newline) to stdout. */
export function printJson(value: unknown): void {
  stdoutWrite(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * For `--json` on a command that also narrates (deploy): send its human text to stderr from here on, so stdout
 * carries only the JSON document that `printJson` writes.
 */
export function narrateToStderr(): void {
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  // The logger writes to the descriptor, not through process.stdout; every child shares this stream object.
  const logOut = log.options.stdout as unknown as { write: (text: string) => unknown } | undefined;
  if (logOut) logOut.write = (text: string) => process.stderr.write(text);
}

/** What `flash build --json` prints (and `deploy --json` under `build`). */
export function buildJson(b: import("../deploy/build").BuildResult) {
  return {
    app: b.app,
    manifest: b.manifestPath,
    artifact: b.artifactPath,
    artifactBytes: b.artifactBytes,
    sha256: b.sha256,
    files: b.files,
    packages: b.packages,
    missing: b.missing,
    resources: b.resources.map((r) => ({
      name: r.name,
      type: r.type,
      functions: r.functions,
      sourceBytes: r.sourceBytes,
    })),
    ms: Math.round(b.ms),
  };
}

/** One environment in `app get --json` and `env list --json`. */
export function environmentJson(e: import("../deploy/flash-app-client").FlashEnvironment) {
  return {
    name: e.name,
    id: e.id,
    state: e.state,
    activeBuildId: e.activeBuildId ?? null,
    endpoints: e.endpoints?.length ?? 0,
    createdAt: e.createdAt ?? null,
  };
}
