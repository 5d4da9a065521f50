import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, run from a folder holding sample.png, on the local pool and on the Runpod emulator.
await readmeSuite(import.meta.dir, { minExamples: 2, files: ["sample.png"], timeoutMs: 120_000 });
