/**
 * Runpod secret references in env values: `{{ RUNPOD_SECRET_<name> }}`, which Runpod replaces with the account's
 * secret of that name when a worker starts (docs pods/templates/secrets), so the value is never stored in a
 * template. Local runs and the emulator have no secret store: they read the variable `<name>` instead.
 */

const SECRET_REF = /^\{\{ RUNPOD_SECRET_([A-Za-z0-9_.-]+) \}\}$/;

/** The reference to the secret `name`, as a template's env carries it. */
export function secretRef(name: string): string {
  return `{{ RUNPOD_SECRET_${name} }}`;
}

/** The name of the secret a value refers to, or undefined when it is a plain value. */
export function secretName(value: string): string | undefined {
  return SECRET_REF.exec(value)?.[1];
}

/** An env with each secret reference replaced by the variable of that name in `source`. */
export function resolveSecrets(
  env: Record<string, string>,
  source: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const name = secretName(v);
    out[k] = name === undefined ? v : (source[name] ?? "");
  }
  return out;
}
