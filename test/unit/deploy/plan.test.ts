/** The deploy plan as a person reads it: which data centers each endpoint may run in. */
import { describe, expect, test } from "bun:test";
import { makePlan, renderPlan } from "../../../core/deploy/plan";
import type { Manifest, ManifestResource } from "../../../core/deploy/manifest";
import { CpuLiveServerless, LiveServerless, type ResourceConfig } from "../../../core/remote/config";
import { DataCenter } from "../../../core/remote/enums";
import { runpodUrls } from "../../../core/runpod/connection";
import { mapConfig } from "../../../core/runpod/mapping";

/** A manifest entry with the endpoint and template a config maps to (what `flash build` records). */
function entry(config: ResourceConfig): ManifestResource {
  const mapped = mapConfig(config, { live: false, workspace: "w", env: {}, programHash: "-", bootstrap: "-" });
  return {
    resource_type: config.kind,
    is_load_balanced: config.isLoadBalancer,
    is_gpu: config.isGpu,
    is_mothership: false,
    config_hash: "h",
    source_fingerprint: "f",
    template: mapped.template!,
    endpoint: { ...mapped.endpoint, name: mapped.name },
    functions: [],
  };
}

describe("deploy plan", () => {
  test("shows each endpoint's data centers, or any when it pins none", () => {
    const manifest: Manifest = {
      version: "flash-1",
      project_name: "dc",
      scope: {},
      source_fingerprint: "f",
      resources: {
        pinned: entry(new LiveServerless({ name: "pinned", datacenter: DataCenter.US_KS_2 })),
        several: entry(new LiveServerless({ name: "several", datacenter: [DataCenter.US_KS_2, DataCenter.EU_RO_1] })),
        anywhere: entry(new CpuLiveServerless({ name: "anywhere" })),
      },
      function_registry: {},
      routes: {},
      mothership: "",
    };
    const environment = { id: "env1", name: "production", state: "HEALTHY", activeBuildId: null, endpoints: [] };
    const plan = makePlan(manifest, { appName: "dc", environment, apiKey: "k", urls: runpodUrls({}) }, {});
    const text = renderPlan(plan);
    const row = (name: string) => text.split("\n").find((l) => l.includes(` ${name} `)) ?? "";
    expect(text.split("\n")[0]).toContain("DATA CENTERS");
    expect(row("pinned")).toMatch(/pinned-fb\s+US-KS-2\s/);
    expect(row("several")).toMatch(/several-fb\s+US-KS-2, EU-RO-1\s/);
    expect(row("anywhere")).toMatch(/anywhere-fb\s+any\s/);
  });
});
