import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { buildApp, type UnifiedApp } from "../../core/app";
import { LocalTarget } from "../../core/remote/local";
import { setTarget } from "../../core/remote/target";

// The README's curl examples must answer what the README shows. Not compared: values that change per call, and
// facts of the machine (the README shows a GPU-less Linux machine with bun 1.4.5).
const ROOT = join(import.meta.dir, "../..");
const VOLATILE = new Set(["timestamp", "completed_at", "process_time_ms", "compute_time_ms"]);
const MACHINE = new Set(["platform", "runtime_version", "gpu", "gpu_name", "gpu_memory_gb"]);
const target = new LocalTarget();
let app: UnifiedApp;

interface CurlExample {
  method: string;
  path: string;
  body?: string;
  expected: unknown;
}

/** Every `curl` in the README's bash blocks, with the JSON it documents (the next json block or a `# {…}` line). */
function curlExamples(markdown: string): CurlExample[] {
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
    return Object.fromEntries(Object.entries(value).filter(([k]) => !VOLATILE.has(k) && !MACHINE.has(k)).map(([k, v]) => [k, stable(v)]));
  }
  return value;
}

// The README shows /gpu/system-deps on a machine without ffmpeg; with ffmpeg installed that answer differs.
const HAS_FFMPEG = Bun.which("ffmpeg") !== null;
const examples = curlExamples(await Bun.file(join(import.meta.dir, "README.md")).text()).filter(
  (e) => !(HAS_FFMPEG && e.path.endsWith("/gpu/system-deps")),
);

beforeAll(async () => {
  setTarget(target);
  app = await buildApp({ root: ROOT, scope: { category: "01_getting_started", example: "04_dependencies" } });
});

afterAll(async () => {
  await target.shutdown();
});

test("the README has curl examples with documented responses", () => {
  expect(examples.length).toBeGreaterThanOrEqual(HAS_FFMPEG ? 3 : 4);
});

test.each(examples.map((e) => [`${e.method} ${e.path} ${e.body ?? ""}`, e] as const))("README: %s", async (_, example) => {
  const headers: Record<string, string> = example.body === undefined ? {} : { "content-type": "application/json" };
  const res = await app.fetch(new Request(`http://localhost${example.path}`, { method: example.method, headers, body: example.body }));
  expect(stable(await res.json())).toEqual(stable(example.expected));
});
