import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, with bash, on the local pool and on the Runpod emulator; its deploy to `flash emulator`.
await readmeSuite(import.meta.dir, { minExamples: 9 });
