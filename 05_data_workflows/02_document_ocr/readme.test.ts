import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, run from a folder holding receipt.png, on the local pool and on the Runpod emulator.
// OCR on a loaded 2-core machine takes seconds, and the first call installs and loads the models.
await readmeSuite(import.meta.dir, { minExamples: 2, files: ["receipt.png"], timeoutMs: 180_000 });
