import { DataCenter, Elysia, GpuGroup, LiveServerless, remote, t } from "flash";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work at import time.

/** A GPU endpoint pinned to one data center: its workers start only in US-KS-2 (Kansas). */
export const pinnedConfig = new LiveServerless({
  name: "04_02_gpu_pinned",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
  datacenter: DataCenter.US_KS_2,
});

/** A GPU endpoint allowed in two data centers: Runpod starts each worker in whichever has a free GPU. */
export const multiConfig = new LiveServerless({
  name: "04_02_gpu_multi",
  gpus: [GpuGroup.ANY],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
  datacenter: [DataCenter.US_KS_2, DataCenter.EU_RO_1],
});

/** Where the worker that ran a call is: Runpod sets RUNPOD_DC_ID in its containers; null locally and on the emulator. */
function ranIn(): string | null {
  return process.env.RUNPOD_DC_ID || null;
}

/** Echo the prompt from a worker of the pinned endpoint, saying where that worker ran. */
export const pinnedInference = remote(pinnedConfig, async (input: { prompt: string }) => ({
  result: { prompt: input.prompt, length: input.prompt.length },
  ran_in: ranIn(),
}));

/** Echo the prompt from a worker of the two-data-center endpoint, saying where that worker ran. */
export const multiInference = remote(multiConfig, async (input: { prompt: string }) => ({
  result: { prompt: input.prompt, length: input.prompt.length },
  ran_in: ranIn(),
}));

/** Where a config's workers may run, as it is sent to Runpod. */
function placement(config: LiveServerless) {
  return {
    endpoint: config.name,
    datacenters: config.datacenters,
    // GraphQL EndpointInput.locations; REST v2 sends the same ids as the array dataCenterIds.
    locations: config.locations,
  };
}

const Prompt = t.Object(
  { prompt: t.String({ minLength: 1, maxLength: 10_000, description: "Any text", examples: ["hello"] }) },
  { examples: [{ prompt: "hello" }] },
);
/** Where an endpoint's workers may run (the config) and where the one that answered ran. */
const Placement = t.Object({
  endpoint: t.String({ description: "The config's name" }),
  datacenters: t.Array(t.String(), { description: "Data centers the workers may run in ([] = any)" }),
  locations: t.String({ description: "What Runpod receives: GraphQL `locations` (REST v2 `dataCenterIds`)" }),
  ran_in: t.Union([t.String(), t.Null()], { description: "RUNPOD_DC_ID of the worker that answered; null off Runpod" }),
  result: t.Object({ prompt: t.String(), length: t.Integer() }),
});

/** POST /pinned and POST /multi: run the prompt on each GPU endpoint and report its placement. */
export const gpu_router = new Elysia()
  .post(
    "/pinned",
    async ({ body }) => ({ ...placement(pinnedConfig), ...(await pinnedInference({ prompt: body.prompt })) }),
    {
      body: Prompt,
      response: { 200: Placement },
      detail: {
        summary: "Run on the endpoint pinned to US-KS-2",
        description: "Runs the prompt on `04_02_gpu_pinned` (datacenter US-KS-2) and reports where it may run.",
      },
    },
  )
  .post(
    "/multi",
    async ({ body }) => ({ ...placement(multiConfig), ...(await multiInference({ prompt: body.prompt })) }),
    {
      body: Prompt,
      response: { 200: Placement },
      detail: {
        summary: "Run on the endpoint allowed in US-KS-2 and EU-RO-1",
        description: "Runs the prompt on `04_02_gpu_multi` (two data centers) and reports where it may run.",
      },
    },
  );
