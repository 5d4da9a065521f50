import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, run from a folder holding sample.png, on the local pool and on the Runpod emulator; the
// deploy block once, to a `flash emulator` it starts.
await readmeSuite(import.meta.dir, { minExamples: 3, files: ["sample.png"], timeoutMs: 120_000 });
