import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, with bash, on the local pool and on the Runpod emulator.
await readmeSuite(import.meta.dir, { minExamples: 4 });
