import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, in order, on the local pool and on the Runpod emulator, each run on an empty volume (so
// the first training is version 1), plus the deploy to `flash emulator` and the README's other commands.
await readmeSuite(import.meta.dir, { minExamples: 10, timeoutMs: 120_000 });
