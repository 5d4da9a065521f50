/**
 * Sections that subsystems (worker pools, the Runpod target) add to `/health` and `/_flash/status`.
 * A registry rather than direct imports, so the app does not depend on which subsystems are in use.
 */
const sections = new Map<string, () => unknown>();

/** Add (or replace) a named section of the status report, computed on each request. */
export function registerStatusSection(name: string, read: () => unknown): void {
  sections.set(name, read);
}

/** Remove a named status section. */
export function unregisterStatusSection(name: string): void {
  sections.delete(name);
}

/** Every registered section, read now. A section that throws reports its error instead of breaking the page. */
export function readStatusSections(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, read] of sections) {
    try {
      out[name] = read();
    } catch (err) {
      out[name] = { error: String((err as Error)?.message ?? err) };
    }
  }
  return out;
}
