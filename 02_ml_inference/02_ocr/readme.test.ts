import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curlExamples, differences, runExample, startFlashRun, type FlashServer } from "../readme-curl";

// A real `flash run` server: its first request starts a worker subprocess and loads the models.
setDefaultTimeout(60_000);

const examples = curlExamples(await Bun.file(join(import.meta.dir, "README.md")).text());
let server: FlashServer;
let cwd: string;

beforeAll(async () => {
  // The README's commands run "from this example's folder": give them its sample.png, but write nothing there.
  cwd = await mkdtemp(join(tmpdir(), "flash-ocr-readme-"));
  await copyFile(join(import.meta.dir, "sample.png"), join(cwd, "sample.png"));
  server = await startFlashRun(import.meta.dir);
});

afterAll(async () => {
  await server?.stop();
  await rm(cwd, { recursive: true, force: true });
});

describe("README curl examples, run with curl against flash run", () => {
  test("the README has the documented examples, each with its reply", () => {
    expect(examples.length).toBe(2);
    expect(examples.every((e) => e.expected !== undefined)).toBe(true);
  });

  for (const [i, example] of examples.entries()) {
    test(`example ${i + 1} returns what the README shows: ${example.command.split("\n")[0]}`, async () => {
      const { code, stdout } = await runExample(example.command, server.port, cwd);
      expect(code).toBe(0);
      expect(differences(JSON.parse(stdout), example.expected)).toEqual([]);
    });
  }
});
