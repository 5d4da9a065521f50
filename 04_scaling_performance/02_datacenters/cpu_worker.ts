import { CpuInstanceType, CpuLiveServerless, DataCenter, Elysia, NetworkVolume, remote, t } from "flash";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work at import time.

/**
 * A network volume in EU-RO-1. An endpoint that mounts it runs only there; EU-RO-1 is also the one data center with
 * CPU serverless (runpod/flash datacenter.py `CPU_DATACENTERS`), so a CPU endpoint can use it.
 */
export const sharedVolume = new NetworkVolume({ name: "04_02_shared", size: 10, dataCenterId: DataCenter.EU_RO_1 });

/** A CPU endpoint in EU-RO-1 with the volume mounted: both rules hold (CPU data center, volume's data center). */
export const cpuConfig = new CpuLiveServerless({
  name: "04_02_cpu_eu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 2,
  idleTimeout: 5,
  datacenter: DataCenter.EU_RO_1,
  networkVolume: sharedVolume,
});

/** Count the words of a text on a CPU worker, and say where the worker ran. */
export const processText = remote(cpuConfig, async (input: { text: string }) => ({
  result: { words: input.text.split(/\s+/).filter(Boolean).length, characters: input.text.length },
  ran_in: process.env.RUNPOD_DC_ID || null,
}));

/** POST /process: count words on the CPU endpoint and report its placement. */
export const cpu_router = new Elysia().post(
  "/process",
  async ({ body }) => ({
    endpoint: cpuConfig.name,
    datacenters: cpuConfig.datacenters,
    locations: cpuConfig.locations,
    volume: { name: sharedVolume.name, datacenter: sharedVolume.dataCenterId },
    ...(await processText({ text: body.text })),
  }),
  {
    body: t.Object(
      {
        text: t.String({
          maxLength: 100_000,
          description: "Text to count",
          examples: ["data centers matter on Runpod"],
        }),
      },
      { examples: [{ text: "data centers matter on Runpod" }] },
    ),
    response: {
      200: t.Object({
        endpoint: t.String(),
        datacenters: t.Array(t.String(), { description: "Data centers the workers may run in" }),
        locations: t.String({ description: "What Runpod receives as `locations` / `dataCenterIds`" }),
        volume: t.Object({ name: t.String(), datacenter: t.String() }, { description: "The mounted network volume" }),
        ran_in: t.Union([t.String(), t.Null()], { description: "RUNPOD_DC_ID of the worker; null off Runpod" }),
        result: t.Object({ words: t.Integer(), characters: t.Integer() }),
      }),
    },
    detail: {
      summary: "Count words on the CPU endpoint in EU-RO-1",
      description: "Runs on `04_02_cpu_eu` (CPU, EU-RO-1, with a network volume there) and reports its placement.",
    },
  },
);
