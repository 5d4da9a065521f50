import { readmeSuite } from "../../test/helpers/readme";

// Every curl in the README, on the local pool and on the Runpod emulator. The README shows /gpu/system-deps on a
// machine without ffmpeg; with ffmpeg installed that answer differs, so it is checked only where ffmpeg is absent.
const HAS_FFMPEG = Bun.which("ffmpeg") !== null;
await readmeSuite(import.meta.dir, {
  minExamples: HAS_FFMPEG ? 4 : 5,
  skip: (e) => HAS_FFMPEG && e.command.includes("/gpu/system-deps"),
});
