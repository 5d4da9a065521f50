import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, with bash, on the local pool and on the Runpod emulator (each run on empty volumes).
await readmeSuite(import.meta.dir, { minExamples: 9, timeoutMs: 120_000 });
