import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README (streams read with curl -N, compared as text) on --target local and --target emulator.
await readmeSuite(import.meta.dir, { minExamples: 5, timeoutMs: 90_000 });
