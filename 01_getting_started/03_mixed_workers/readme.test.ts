import { readmeSuite } from "../../test/helpers/readme";

// The README's curl examples must answer what the README shows.
await readmeSuite(import.meta.dir, { minExamples: 5 });
