/** Entry of the npm package's `bin/flash.js` (bundled for Node): find the platform's binary and run it. */
import { findBinary, launch } from "./launcher";

const found = findBinary(process.platform, process.arch, process.env, (name) => {
  try {
    return require.resolve(name); // from this file, the main package: its node_modules, then its parents
  } catch {
    return undefined;
  }
});
if ("error" in found) {
  process.stderr.write(`flash: ${found.error}\n`);
  process.exit(1);
}
launch(found.binary, process.argv.slice(2), process.platform, process.arch).then((code) => process.exit(code));
