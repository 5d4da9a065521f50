import { readmeSuite } from "../../test/helpers/readme";

// The README's curl examples must answer what the README shows. It shows /gpu/system-deps on a machine without
// ffmpeg; with ffmpeg installed that answer differs, so it is checked only where ffmpeg is absent.
const HAS_FFMPEG = Bun.which("ffmpeg") !== null;
await readmeSuite(import.meta.dir, {
  minExamples: HAS_FFMPEG ? 3 : 4,
  skip: (e) => HAS_FFMPEG && e.command.includes("/gpu/system-deps"),
});
