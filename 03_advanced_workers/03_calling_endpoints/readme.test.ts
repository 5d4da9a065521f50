import { readmeSuite } from "../../test/helpers/readme";
import { startTestEndpoint, useEnv } from "./test-endpoint";

// Every curl in the README (bash + curl + jq), against an endpoint on flash's Runpod emulator, with the example
// served on --target local and --target emulator (its routes call the endpoint directly, so both must agree).
await readmeSuite(import.meta.dir, {
  minExamples: 6,
  timeoutMs: 60_000,
  async setup() {
    const endpoint = await startTestEndpoint();
    const restore = useEnv(endpoint.env);
    return async () => {
      restore();
      await endpoint.stop();
    };
  },
});
