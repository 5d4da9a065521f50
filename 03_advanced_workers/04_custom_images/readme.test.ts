import { join } from "node:path";
import { readmeSuite } from "../../test/helpers/readme";
import { IMAGE } from "./gpu_worker";

// The README's requests must answer what it shows, on the local pool and on the emulator. The emulator runs the
// custom image's command (handler.ts) as that image's workers, as `flash emulator --image` does in the README.
await readmeSuite(import.meta.dir, {
  minExamples: 4,
  images: { [IMAGE]: [process.execPath, "--no-install", join(import.meta.dir, "handler.ts")] },
});
