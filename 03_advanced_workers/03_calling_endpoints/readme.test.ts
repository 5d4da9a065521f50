import { join } from "node:path";
import { readmeRequests, readmeSuite, runSetupBlock } from "../../test/helpers/readme";
import { useEnv } from "./test-endpoint";

// The README's own "no endpoint yet" block makes the endpoint (flash emulator with --image, one GraphQL call); then
// every curl in the README (bash + curl + jq) runs against it, with the example served on --target local and
// --target emulator (its routes call the endpoint directly, so both must agree).
const ROOT = join(import.meta.dir, "../..");
// The block that makes the endpoint; the deploy block makes its own as well, and runs as a request.
const isSetup = (command: string) => command.includes("saveEndpoint") && !/\bflash deploy\b/.test(command);
const setupBlock = readmeRequests(await Bun.file(join(import.meta.dir, "README.md")).text()).find((r) =>
  isSetup(r.command),
);
if (!setupBlock) throw new Error("the README has no block that creates an endpoint");

await readmeSuite(import.meta.dir, {
  minExamples: 6,
  timeoutMs: 60_000,
  skip: (request) => isSetup(request.command),
  async setup() {
    // Up to the server start: the suite serves the example itself.
    const command = setupBlock.command.replace(/\ncd [^\n]*bun run dev[^\n]*$/, "");
    const { env, stop } = await runSetupBlock(
      command,
      ["RUNPOD_API_KEY", "RUNPOD_ENDPOINT_BASE_URL", "TARGET_ENDPOINT_ID"],
      ROOT,
    );
    if (!env.TARGET_ENDPOINT_ID || env.TARGET_ENDPOINT_ID === "null") throw new Error("no endpoint was created");
    const restore = useEnv(env);
    return async () => {
      restore();
      stop();
    };
  },
});
