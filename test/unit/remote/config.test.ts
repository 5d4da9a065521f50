// Resource configs: the defaults of runpod/flash (Python), validation at construction, and derived fields.
import { describe, expect, test } from "bun:test";
import {
  ConfigError,
  CpuInstanceType,
  CpuLiveLoadBalancer,
  CpuLiveServerless,
  CpuServerlessEndpoint,
  CudaVersion,
  DataCenter,
  GpuGroup,
  GpuType,
  LiveLoadBalancer,
  LiveServerless,
  NetworkVolume,
  ServerlessEndpoint,
  ServerlessScalerType,
} from "../../../core";

describe("defaults (as in runpod/flash (Python))", () => {
  test("LiveServerless", () => {
    const c = new LiveServerless({ name: "gpu" });
    expect(c).toMatchObject({
      kind: "LiveServerless",
      name: "gpu",
      gpus: [GpuGroup.ANY],
      gpuCount: 1,
      instanceIds: [],
      workersMin: 0,
      workersMax: 3,
      idleTimeout: 5,
      executionTimeoutMs: 0,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      flashboot: true,
      datacenters: [], // anywhere: runpod/flash defaults datacenter to None
      type: "QB",
      env: {},
      containerDiskInGb: 64,
    });
    expect(c.isGpu).toBe(true);
    expect(c.isLoadBalancer).toBe(false);
    expect(c.isLive).toBe(true);
    expect(c.endpointName).toBe("gpu-fb");
    expect(c.toJSON()).not.toHaveProperty("imageName"); // live configs: the target picks the image
  });

  test("CPU and load-balancer classes", () => {
    const cpu = new CpuLiveServerless({ name: "cpu" });
    expect(cpu).toMatchObject({
      kind: "CpuLiveServerless",
      instanceIds: ["cpu3g-2-8"],
      gpus: [],
      gpuCount: 0,
      containerDiskInGb: 20,
    });
    expect(cpu.isGpu).toBe(false);
    const lb = new CpuLiveLoadBalancer({ name: "lb" });
    expect(lb).toMatchObject({ kind: "CpuLiveLoadBalancer", type: "LB", scalerType: "REQUEST_COUNT" });
    expect(lb.isLoadBalancer && !lb.isGpu).toBe(true);
    const glb = new LiveLoadBalancer({ name: "glb", gpus: [GpuGroup.ADA_24] });
    expect(glb.isLoadBalancer && glb.isGpu).toBe(true);
    expect(new CpuLiveServerless({ name: "c", instanceIds: [CpuInstanceType.CPU5C_4_8] }).containerDiskInGb).toBe(60);
  });

  test("custom-image endpoints need an image", () => {
    expect(() => new ServerlessEndpoint({ name: "x" })).toThrow(
      'ServerlessEndpoint "x": needs imageName or templateId',
    );
    expect(new ServerlessEndpoint({ name: "x", imageName: "me/img:1" }).toJSON().imageName).toBe("me/img:1");
    expect(new CpuServerlessEndpoint({ name: "y", templateId: "t1" }).isGpu).toBe(false);
    // instanceIds turn a ServerlessEndpoint into a CPU endpoint (GPU fields cleared)
    expect(
      new ServerlessEndpoint({ name: "z", imageName: "i", instanceIds: [CpuInstanceType.CPU3C_1_2] }),
    ).toMatchObject({ gpus: [], gpuCount: 0 });
  });

  test("gpuIds: pools sorted; specific models add negations of the other models of their pool", () => {
    expect(new LiveServerless({ name: "a", gpus: [GpuGroup.ADA_24, GpuGroup.AMPERE_80] }).gpuIds).toBe(
      "ADA_24,AMPERE_80",
    );
    expect(new LiveServerless({ name: "b", gpus: [GpuType.NVIDIA_L4] }).gpuIds).toBe(
      "AMPERE_24,-NVIDIA GeForce RTX 3090,-NVIDIA RTX A5000",
    );
    expect(new LiveServerless({ name: "c" }).gpuIds.split(",")).toContain("HOPPER_141");
    expect(
      new LiveServerless({ name: "d", cudaVersions: [CudaVersion.V12_4, CudaVersion.V12_8] }).allowedCudaVersions,
    ).toBe("12.4,12.8");
  });

  test("JSON view masks env values", () => {
    const c = new CpuLiveServerless({ name: "e", env: { TOKEN: "secret" } });
    expect(JSON.stringify(c)).not.toContain("secret");
    expect(c.toJSON().env).toEqual({ TOKEN: "***" });
  });
});

describe("validation with clear errors", () => {
  const cases: [string, () => unknown, string][] = [
    ["empty name", () => new LiveServerless({ name: "" }), "name is required"],
    ["blank name", () => new LiveServerless({ name: "  " }), "name is required"],
    [
      "min > max",
      () => new LiveServerless({ name: "a", workersMin: 4, workersMax: 2 }),
      "workersMin (4) is greater than workersMax (2)",
    ],
    [
      "negative",
      () => new CpuLiveServerless({ name: "a", workersMin: -1 }),
      "workersMin must be a whole number ≥ 0 (got -1)",
    ],
    ["fraction", () => new CpuLiveServerless({ name: "a", workersMax: 1.5 }), "workersMax must be a whole number"],
    ["max 0", () => new CpuLiveServerless({ name: "a", workersMax: 0 }), "workersMax must be at least 1"],
    ["negative idle", () => new CpuLiveServerless({ name: "a", idleTimeout: -5 }), "idleTimeout must be a number ≥ 0"],
    [
      "negative timeout",
      () => new CpuLiveServerless({ name: "a", executionTimeoutMs: -1 }),
      "executionTimeoutMs must be a whole number",
    ],
    [
      "unknown GPU",
      () => new LiveServerless({ name: "a", gpus: ["RTX_9999" as GpuGroup] }),
      'unknown gpus entry "RTX_9999"',
    ],
    ["empty gpus", () => new LiveServerless({ name: "a", gpus: [] }), "gpus is empty"],
    [
      "unknown CPU",
      () => new CpuLiveServerless({ name: "a", instanceIds: ["cpu9z-1-1" as CpuInstanceType] }),
      'unknown instanceIds entry "cpu9z-1-1"',
    ],
    [
      "gpus on CPU",
      () => new CpuLiveServerless({ name: "a", gpus: [GpuGroup.ANY] }),
      "a CPU config takes instanceIds, not gpus",
    ],
    [
      "typo",
      () => new LiveServerless({ name: "a", workerMax: 2 } as never),
      'unknown option "workerMax" (did you mean "workersMax"?)',
    ],
    [
      "LB queue delay",
      () => new LiveLoadBalancer({ name: "a", scalerType: ServerlessScalerType.QUEUE_DELAY }),
      "QUEUE_DELAY is not supported",
    ],
    [
      "datacenter",
      () => new LiveServerless({ name: "a", datacenter: "MARS-1" as DataCenter }),
      'unknown datacenter "MARS-1"',
    ],
    [
      "disk too big",
      () => new CpuLiveServerless({ name: "a", instanceIds: [CpuInstanceType.CPU3C_1_2], containerDiskInGb: 64 }),
      "exceeds 10 GB",
    ],
    [
      "env value",
      () => new LiveServerless({ name: "a", env: { N: 1 as unknown as string } }),
      "env.N must be a string",
    ],
    ["no options", () => new (LiveServerless as unknown as new () => unknown)(), "needs an options object"],
    ["volume size", () => new NetworkVolume({ name: "v", size: 0 }), "size must be a whole number of GB"],
    ["volume name", () => new NetworkVolume({ name: "" }), "name is required"],
  ];
  for (const [what, make, message] of cases) {
    test(what, () => {
      expect(make).toThrow(ConfigError);
      expect(make).toThrow(message);
    });
  }

  test("datacenter takes one data center or several, read as runpod/flash's DataCenter.from_string", () => {
    expect(new LiveServerless({ name: "g", datacenter: DataCenter.US_KS_2 }).datacenters).toEqual(["US-KS-2"]);
    const many = new LiveServerless({ name: "g", datacenter: [DataCenter.US_KS_2, DataCenter.EU_RO_1] });
    expect(many.datacenters).toEqual(["US-KS-2", "EU-RO-1"]);
    expect(many.toJSON().datacenters).toEqual(["US-KS-2", "EU-RO-1"]);
    // Lower case and underscores are accepted (serverless.py normalize_datacenter); repeats are dropped.
    const loose = ["eu_ro_1", " EU-RO-1 ", "us-ks-2"] as unknown as DataCenter[];
    expect(new LiveServerless({ name: "g", datacenter: loose }).datacenters).toEqual(["EU-RO-1", "US-KS-2"]);
    expect(new LiveServerless({ name: "g", datacenter: [] }).datacenters).toEqual([]);
    expect(() => new LiveServerless({ name: "g", datacenter: ["US-KS-9" as DataCenter] })).toThrow(
      'unknown datacenter "US-KS-9" (did you mean "US-KS-2"?)',
    );
  });

  test("a network volume confines the endpoint to the volume's data center; a mismatch is refused", () => {
    const vol = new NetworkVolume({ name: "models", size: 50 });
    expect(vol).toMatchObject({ name: "models", size: 50, dataCenterId: "EU-RO-1" });
    expect(new LiveServerless({ name: "a", networkVolume: vol }).networkVolume).toBe(vol);
    expect(new LiveServerless({ name: "a", networkVolume: vol }).datacenters).toEqual(["EU-RO-1"]);
    const ks = new NetworkVolume({ name: "ks", dataCenterId: DataCenter.US_KS_2 });
    expect(new LiveServerless({ name: "a", networkVolume: ks }).datacenters).toEqual(["US-KS-2"]);
    // Inside a list of several is enough (serverless.py checks membership); the list is kept as chosen.
    const both = new LiveServerless({
      name: "a",
      networkVolume: ks,
      datacenter: [DataCenter.EU_RO_1, DataCenter.US_KS_2],
    });
    expect(both.datacenters).toEqual(["EU-RO-1", "US-KS-2"]);
    expect(() => new LiveServerless({ name: "a", networkVolume: vol, datacenter: DataCenter.US_KS_2 })).toThrow(
      "Network volume datacenter (EU-RO-1) is not in the endpoint's datacenter list (US-KS-2)",
    );
    expect(
      () => new LiveServerless({ name: "a", networkVolume: vol, datacenter: [DataCenter.US_KS_2, DataCenter.EU_CZ_1] }),
    ).toThrow(ConfigError);
  });

  test("CPU endpoints only in the data centers with CPU serverless (EU-RO-1), with runpod/flash's message", () => {
    expect(() => new CpuLiveServerless({ name: "c", datacenter: DataCenter.US_KS_2 })).toThrow(
      "CPU endpoints are not available in: US-KS-2. Supported CPU data centers: EU-RO-1",
    );
    // Every unsupported one is named, as validate_cpu_datacenters does.
    expect(
      () =>
        new CpuLiveServerless({ name: "c", datacenter: [DataCenter.EU_RO_1, DataCenter.US_KS_2, DataCenter.EU_CZ_1] }),
    ).toThrow("CPU endpoints are not available in: US-KS-2, EU-CZ-1.");
    expect(new CpuLiveServerless({ name: "c", datacenter: DataCenter.EU_RO_1 }).datacenters).toEqual(["EU-RO-1"]);
    // A GPU ServerlessEndpoint with instanceIds is a CPU endpoint too.
    expect(
      () =>
        new ServerlessEndpoint({
          name: "s",
          imageName: "me/x:1",
          instanceIds: [CpuInstanceType.CPU3C_2_4],
          datacenter: DataCenter.US_KS_2,
        }),
    ).toThrow("CPU endpoints are not available in: US-KS-2");
    // A CPU endpoint on a volume outside EU-RO-1 could never be placed: refused, naming the volume.
    const ks = new NetworkVolume({ name: "ks", dataCenterId: DataCenter.US_KS_2 });
    expect(() => new CpuLiveServerless({ name: "c", networkVolume: ks })).toThrow(
      'CPU endpoints are not available in: US-KS-2. Supported CPU data centers: EU-RO-1 (the data center of networkVolume "ks")',
    );
  });
});
