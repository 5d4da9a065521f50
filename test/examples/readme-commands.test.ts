/**
 * The shell commands of the READMEs that are not an example's own (each example's readme.test.ts runs those): the
 * category READMEs, run from this repository's root, and the README that `flash init` writes, run in a fresh
 * workspace with its requests on --target local and --target emulator.
 */
import { afterAll } from "bun:test";
import { join, resolve } from "node:path";
import { readmeCommandSuite, readmeSuite } from "../helpers/readme";
import { makeWorkspace, removeDir, runFlash } from "../helpers/workspace";

const ROOT = resolve(import.meta.dir, "../..");

for (const category of [
  "01_getting_started",
  "02_ml_inference",
  "03_advanced_workers",
  "04_scaling_performance",
  "05_data_workflows",
]) {
  readmeCommandSuite(join(ROOT, category, "README.md"));
}

// A workspace as `flash init` leaves it: the template's README, its commands (from the workspace root) and requests.
const ws = makeWorkspace({ "01_basics/.keep": "" }, "flash-readme-init-");
afterAll(() => removeDir(ws));
const init = runFlash(join(ws, "01_basics"), ["init", "02_demo", "--no-install"]);
if (init.code !== 0) throw new Error(`flash init failed:\n${init.out}`);
await readmeSuite(join(ws, "01_basics/02_demo"), { minExamples: 2 });
