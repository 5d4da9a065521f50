/**
 * Test harness for an example's README: every `curl` in its bash blocks is sent to the unified app (scoped to the
 * example, remote functions on a local pool) and the reply is compared with the JSON the README documents.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { basename, dirname, join } from "node:path";
import { buildApp, type UnifiedApp } from "../../core/dev/app";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";

/** A curl example from a README and the JSON it documents. */
export interface CurlExample {
  method: string;
  path: string;
  body?: string;
  expected: unknown;
}

// Not compared: values that change per call, and facts of the machine (the READMEs show a GPU-less Linux machine).
const VOLATILE = new Set(["timestamp", "completed_at", "process_time_ms", "compute_time_ms"]);
const MACHINE = new Set(["platform", "runtime_version", "gpu", "gpu_name", "gpu_memory_gb"]);

/** Every `curl` in the README's bash blocks, with the JSON it documents (the next json block or a `# {…}` line). */
export function curlExamples(markdown: string): CurlExample[] {
  const blocks = [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2]! }));
  const examples: CurlExample[] = [];
  blocks.forEach((block, i) => {
    if (block.lang !== "bash" || !block.text.includes("curl ")) return;
    const lines = block.text.replace(/\\\n\s*/g, " ").split("\n");
    lines.forEach((line, j) => {
      if (!line.trim().startsWith("curl ")) return;
      const inline = lines[j + 1]?.trim().startsWith("# {") ? lines[j + 1]!.trim().slice(2) : undefined;
      const next = blocks[i + 1]?.lang === "json" ? blocks[i + 1]!.text : undefined;
      const expected = inline ?? next;
      if (expected === undefined) return;
      examples.push({
        method: /-X (\w+)/.exec(line)?.[1] ?? "GET",
        path: /http:\/\/localhost:8888(\S+)/.exec(line)![1]!,
        body: /-d '([^']*)'/.exec(line)?.[1],
        expected: JSON.parse(expected),
      });
    });
  });
  return examples;
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !VOLATILE.has(k) && !MACHINE.has(k))
        .map(([k, v]) => [k, stable(v)]),
    );
  }
  return value;
}

/** Options of a README suite: how many examples at least, and which ones this machine cannot reproduce. */
export interface ReadmeSuiteOptions {
  minExamples: number;
  skip?: (example: CurlExample) => boolean;
}

/** Register the README tests of the example folder `dir` (its README.md, served at its usual URLs). */
export async function readmeSuite(dir: string, options: ReadmeSuiteOptions): Promise<void> {
  const root = dirname(dirname(dir));
  const scope = { category: basename(dirname(dir)), example: basename(dir) };
  const target = new LocalTarget();
  let app: UnifiedApp;
  const all = curlExamples(await Bun.file(join(dir, "README.md")).text());
  const examples = options.skip ? all.filter((e) => !options.skip!(e)) : all;

  beforeAll(async () => {
    setTarget(target);
    app = await buildApp({ root, scope });
  });
  afterAll(() => target.shutdown());

  test("the README has curl examples with documented responses", () => {
    expect(examples.length).toBeGreaterThanOrEqual(options.minExamples);
  });

  test.each(examples.map((e) => [`${e.method} ${e.path} ${e.body ?? ""}`, e] as const))(
    "README: %s",
    async (_, example) => {
      const headers: Record<string, string> = example.body === undefined ? {} : { "content-type": "application/json" };
      const res = await app.fetch(
        new Request(`http://localhost${example.path}`, { method: example.method, headers, body: example.body }),
      );
      expect(stable(await res.json())).toEqual(stable(example.expected));
    },
  );
}
