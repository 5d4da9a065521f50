/**
 * For the tests: "an existing endpoint" on flash's Runpod emulator, whose workers run endpoint_handler.ts (mapped
 * to the template's image, as `flash emulator` maps images to local commands), and the environment the example
 * reads to call it.
 */
import { resolve } from "node:path";
import { startEmulator, type Emulator } from "../../core/emulator/server";

/** A running emulator with one endpoint, and the settings that point the example at it. */
export interface TestEndpoint {
  emulator: Emulator;
  endpointId: string;
  env: { RUNPOD_API_KEY: string; TARGET_ENDPOINT_ID: string; RUNPOD_ENDPOINT_BASE_URL: string };
  stop(): Promise<void>;
}

/** Start the emulator, create the endpoint (its image runs endpoint_handler.ts), return the settings. */
export async function startTestEndpoint(): Promise<TestEndpoint> {
  const apiKey = `emu_${crypto.randomUUID().replaceAll("-", "")}`;
  const image = "example/text-stats:1";
  const emulator = startEmulator({
    apiKey,
    takeHoldMs: 1000,
    workers: { images: { [image]: [process.execPath, resolve(import.meta.dir, "endpoint_handler.ts")] } },
  });
  const res = await fetch(`${emulator.apiBaseUrl}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($input: EndpointInput!) { saveEndpoint(input: $input) { id } }",
      variables: {
        input: {
          name: "text-stats",
          template: { name: "text-stats-tpl", imageName: image, containerDiskInGb: 5, env: [] },
          workersMin: 0,
          workersMax: 3,
          idleTimeout: 5,
        },
      },
    }),
  });
  const body = (await res.json()) as { data?: { saveEndpoint: { id: string } }; errors?: unknown };
  if (!body.data) throw new Error(`creating the test endpoint failed: ${JSON.stringify(body.errors)}`);
  const endpointId = body.data.saveEndpoint.id;
  return {
    emulator,
    endpointId,
    env: { RUNPOD_API_KEY: apiKey, TARGET_ENDPOINT_ID: endpointId, RUNPOD_ENDPOINT_BASE_URL: emulator.endpointBaseUrl },
    stop: () => emulator.stop(),
  };
}

/** Set the example's settings in this process for the duration of a test file; returns the restore function. */
export function useEnv(env: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
