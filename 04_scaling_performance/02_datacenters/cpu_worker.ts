import { Elysia, t, remote, CpuLiveServerless, CpuInstanceType } from "flash";

// Workers import this module and get only its bundled code, never the files beside it: no file reads and no heavy
// work at import time.

/** Where cpuHello runs: a small CPU endpoint that scales from zero to three workers. */
const cpuConfig = new CpuLiveServerless({
  name: "04_02_cpu",
  instanceIds: [CpuInstanceType.CPU3C_2_4],
  workersMin: 0,
  workersMax: 3,
  idleTimeout: 5,
});

/** The remote function: runs on a CPU worker and greets by name. */
export const cpuHello = remote(cpuConfig, async (input: { name: string }) => ({
  status: "success",
  message: `Hello, ${input.name}!`,
  worker_type: "CPU",
  timestamp: new Date().toISOString(),
  runtime_version: `bun ${Bun.version}`,
}));

/** POST /hello: greet from a CPU worker. */
export const cpu_router = new Elysia().post("/hello", ({ body }) => cpuHello({ name: body.name }), {
  body: t.Object({
    name: t.String({ default: "Flash expert", examples: ["Flash User"], minLength: 1, maxLength: 200 }),
  }),
  response: {
    200: t.Object({
      status: t.String(),
      message: t.String(),
      worker_type: t.String(),
      timestamp: t.String(),
      runtime_version: t.String(),
    }),
  },
  detail: { summary: "Greet from a CPU worker", description: "Runs cpuHello on a CPU worker and returns its greeting." },
});
