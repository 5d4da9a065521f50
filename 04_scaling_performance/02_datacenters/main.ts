import {
  ConfigError,
  CPU_DATACENTERS,
  CpuLiveServerless,
  DataCenter,
  Elysia,
  LiveServerless,
  NetworkVolume,
  t,
} from "flash";
import { cpuConfig } from "./cpu_worker";
import { multiConfig, pinnedConfig } from "./gpu_worker";

const DATA_CENTERS: string[] = Object.values(DataCenter);

/** One endpoint's placement: where its workers may run and what Runpod receives for it. */
const Endpoint = t.Object({
  endpoint: t.String(),
  kind: t.String({ description: "The config class" }),
  datacenters: t.Array(t.String(), { description: "Data centers the workers may run in ([] = any)" }),
  locations: t.String({ description: "GraphQL `locations`; REST v2 sends the same ids as `dataCenterIds`" }),
  network_volume: t.Union([t.String(), t.Null()], { description: "The volume's data center, when it has one" }),
});

/** The placement a config would send, or the option at fault and the ConfigError it raises. */
type Checked = { ok: true; datacenters: string[]; locations: string } | { ok: false; field: string; message: string };

/** What a config (built on the server, not deployed) would send, or the ConfigError it raises. */
function check(body: { kind: "gpu" | "cpu"; datacenter?: string[]; volume_datacenter?: string }): Checked {
  let volume: NetworkVolume | undefined;
  try {
    if (body.volume_datacenter !== undefined) {
      volume = new NetworkVolume({ name: "check", dataCenterId: body.volume_datacenter as DataCenter });
    }
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, field: "volume_datacenter", message: err.message };
    throw err;
  }
  try {
    const options = { name: "check", datacenter: body.datacenter as DataCenter[] | undefined, networkVolume: volume };
    const config = body.kind === "cpu" ? new CpuLiveServerless(options) : new LiveServerless(options);
    return { ok: true, datacenters: config.datacenters as string[], locations: config.locations };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, field: "datacenter", message: err.message };
    throw err;
  }
}

/** GET /placement and POST /check: the data centers of this example's endpoints, and a config checker. */
export const api_router = new Elysia()
  .get(
    "/placement",
    () => ({
      endpoints: [pinnedConfig, multiConfig, cpuConfig].map((c) => ({
        endpoint: c.name,
        kind: c.kind,
        datacenters: c.datacenters as string[],
        locations: c.locations,
        network_volume: c.networkVolume?.dataCenterId ?? null,
      })),
      cpu_datacenters: [...CPU_DATACENTERS] as string[],
      datacenters: DATA_CENTERS,
    }),
    {
      response: {
        200: t.Object({
          endpoints: t.Array(Endpoint),
          cpu_datacenters: t.Array(t.String(), { description: "Data centers with CPU serverless" }),
          datacenters: t.Array(t.String(), { description: "Every data center a config accepts" }),
        }),
      },
      detail: {
        summary: "Where this example's endpoints may run",
        description: "Each endpoint's data centers and the `locations` it sends; nothing is deployed.",
      },
    },
  )
  .post(
    "/check",
    ({ body, status }) => {
      const out = check({
        kind: body.kind ?? "gpu",
        datacenter: body.datacenter,
        volume_datacenter: body.volume_datacenter,
      });
      if (!out.ok) return status(422, { error: "config_error" as const, field: out.field, message: out.message });
      return { valid: true as const, datacenters: out.datacenters, locations: out.locations };
    },
    {
      body: t.Object(
        {
          kind: t.Optional(
            t.Union([t.Literal("gpu"), t.Literal("cpu")], { default: "gpu", description: "GPU or CPU endpoint" }),
          ),
          datacenter: t.Optional(
            t.Array(t.String({ maxLength: 20 }), {
              maxItems: 20,
              description: "Data centers to pin ([] or absent: any)",
            }),
          ),
          volume_datacenter: t.Optional(
            t.String({ maxLength: 20, description: "Mount a network volume in this data center" }),
          ),
        },
        { examples: [{ kind: "cpu", datacenter: ["US-KS-2"] }] },
      ),
      response: {
        200: t.Object({
          valid: t.Literal(true),
          datacenters: t.Array(t.String()),
          locations: t.String({ description: "What Runpod would receive as `locations` / `dataCenterIds`" }),
        }),
        422: t.Object({
          error: t.Literal("config_error"),
          field: t.String({ description: "The option at fault" }),
          message: t.String({ description: "The ConfigError a config with these options raises" }),
        }),
      },
      detail: {
        summary: "Check a data-center choice before deploying",
        description:
          "Builds a GPU or CPU config with these data centers (and a volume) on the server, as your code would, " +
          "and answers what it would send to Runpod or the ConfigError it raises.",
      },
    },
  );
