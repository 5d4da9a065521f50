/** How a resource config maps to Runpod's template and endpoint fields (the Python original's mapping), and its hash. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  CpuLiveServerless,
  LiveLoadBalancer,
  LiveServerless,
  NetworkVolume,
  ServerlessEndpoint,
} from "../../../core/remote/config";
import { CpuInstanceType, CudaVersion, DataCenter, GpuGroup, GpuType } from "../../../core/remote/enums";
import {
  BOOTSTRAP_START,
  configHash,
  DEFAULT_CPU_IMAGE,
  DEFAULT_GPU_IMAGE,
  mapConfig,
} from "../../../core/runpod/mapping";
import { createBody, updateBody } from "../../../core/runpod/mapping-v2";

const WS = "0123456789abcdef";

describe("mapping a resource config", () => {
  const opts = (live: boolean, env: Record<string, string> = {}) => ({
    live,
    workspace: WS,
    env,
    programHash: "feedfacefeedface",
    bootstrap: "Ym9vdA==",
  });

  test("a GPU live config on a built image: explicit worker mode, marker, CUDA and no pinned data center", () => {
    const cfg = new LiveServerless({
      name: "gpu_worker",
      gpus: [GpuType.NVIDIA_L4],
      workersMax: 2,
      cudaVersions: [CudaVersion.V12_4],
      env: { MODE: "x" },
    });
    const m = mapConfig(cfg, opts(true, { FLASH_WORKER_IMAGE: "me/flash-worker:gpu-1" }));
    expect(m.name).toBe("live-gpu_worker-fb");
    expect(m.endpoint).toMatchObject({
      name: "live-gpu_worker-fb",
      type: "QB",
      gpuCount: 1,
      workersMin: 0,
      workersMax: 2,
      idleTimeout: 5,
      scalerType: "QUEUE_DELAY",
      scalerValue: 4,
      flashBootType: "FLASHBOOT",
      allowedCudaVersions: "12.4",
    });
    expect(m.endpoint.locations).toBeUndefined(); // only a chosen datacenter is sent
    expect(m.endpoint.gpuIds).toBe("AMPERE_24,-NVIDIA GeForce RTX 3090,-NVIDIA RTX A5000");
    expect(m.endpoint.instanceIds).toBeUndefined();
    expect(m.bootstrap).toBe(false);
    expect(m.template).toMatchObject({
      imageName: "me/flash-worker:gpu-1",
      containerDiskInGb: 64,
      volumeInGb: 0,
      dockerArgs: "",
      env: [
        { key: "FLASH_WORKER_MODE", value: "queue" },
        { key: "FLASH_WORKSPACE", value: WS },
        { key: "MODE", value: "x" },
      ],
      isServerless: true,
    });
  });

  test("a load-balanced template names its mode and carries PORT and PORT_HEALTH itself; a user's PORT wins", () => {
    const lb = mapConfig(
      new LiveLoadBalancer({ name: "api", gpus: [GpuGroup.ADA_24], imageName: "mine:1" }),
      opts(true),
    );
    const env = Object.fromEntries(lb.template!.env.map((v) => [v.key, v.value]));
    expect(env).toMatchObject({ FLASH_WORKER_MODE: "lb", PORT: "80", PORT_HEALTH: "80", FLASH_WORKSPACE: WS });
    expect(lb.endpoint).toMatchObject({ type: "LB", scalerType: "REQUEST_COUNT", gpuIds: "ADA_24" });
    const own = mapConfig(
      new LiveLoadBalancer({ name: "api", imageName: "mine:1", env: { PORT: "8080" } }),
      opts(true),
    );
    expect(own.template!.env).toContainEqual({ key: "PORT", value: "8080" });
  });

  test("maxConcurrency above 1 reaches a queue worker as FLASH_MAX_CONCURRENCY; the default sends nothing", () => {
    const envOf = (m: ReturnType<typeof mapConfig>) => Object.fromEntries(m.template!.env.map((v) => [v.key, v.value]));
    const io = mapConfig(new CpuLiveServerless({ name: "io", maxConcurrency: 8 }), opts(true));
    expect(envOf(io).FLASH_MAX_CONCURRENCY).toBe("8");
    expect(envOf(mapConfig(new CpuLiveServerless({ name: "one" }), opts(true))).FLASH_MAX_CONCURRENCY).toBeUndefined();
  });

  test("with no image set, the public images of the pinned Bun and the bootstrap start command; GPU gets minCudaVersion", async () => {
    const cpu = mapConfig(new CpuLiveServerless({ name: "c" }), opts(true));
    expect(cpu.bootstrap).toBe(true);
    expect(cpu.template!.imageName).toBe(DEFAULT_CPU_IMAGE);
    expect(cpu.template!.dockerArgs).toBe(BOOTSTRAP_START);
    const cpuEnv = Object.fromEntries(cpu.template!.env.map((v) => [v.key, v.value]));
    expect(cpuEnv).toMatchObject({ FLASH_WORKER_HASH: "feedfacefeedface", FLASH_BOOTSTRAP: "Ym9vdA==" });
    expect(cpuEnv.FLASH_INSTALL_BUN).toBeUndefined();
    const gpu = mapConfig(new LiveServerless({ name: "g" }), opts(true));
    expect(gpu.template!.imageName).toBe(DEFAULT_GPU_IMAGE);
    expect(gpu.endpoint.minCudaVersion).toBe("12.8");
    // Both images follow the Bun flash is pinned to (package.json packageManager), not the Bun running it.
    const pinned = (await Bun.file(join(import.meta.dir, "../../../package.json")).json()).packageManager.replace(
      "bun@",
      "",
    );
    expect(DEFAULT_CPU_IMAGE).toBe(`oven/bun:${pinned}`);
    expect(gpu.template!.env.find((v) => v.key === "FLASH_INSTALL_BUN")?.value).toContain(`bun-v${pinned}`);
    const env = { FLASH_WORKER_IMAGE: "all:1", FLASH_WORKER_IMAGE_CPU: "cpu:1" };
    expect(mapConfig(new CpuLiveServerless({ name: "c" }), opts(true, env)).template!.imageName).toBe("cpu:1");
    expect(mapConfig(new LiveServerless({ name: "g" }), opts(true, env)).template!.imageName).toBe("all:1");
  });

  test("CPU endpoints carry no GPU fields; FlashBoot off is said; a chosen datacenter is sent", () => {
    const cpu = mapConfig(
      new CpuLiveServerless({
        name: "cpu_worker",
        instanceIds: [CpuInstanceType.CPU3C_2_4],
        flashboot: false,
        datacenter: DataCenter.EU_RO_1,
      }),
      opts(false),
    );
    expect(cpu.name).toBe("cpu_worker");
    expect(cpu.endpoint).toMatchObject({ instanceIds: ["cpu3c-2-4"], flashBootType: "OFF", locations: "EU-RO-1" });
    expect("gpuIds" in cpu.endpoint).toBe(false);
    expect(cpu.endpoint.gpuCount).toBeUndefined();
    expect(cpu.template!.containerDiskInGb).toBe(20);
    // idleTimeout is an Int from 1 to 3600 on Runpod; the local pool's fractions are rounded into range.
    expect(mapConfig(new CpuLiveServerless({ name: "fast", idleTimeout: 0.2 }), opts(true)).endpoint.idleTimeout).toBe(
      1,
    );
    expect(mapConfig(new CpuLiveServerless({ name: "slow", idleTimeout: 7200 }), opts(true)).endpoint.idleTimeout).toBe(
      3600,
    );
  });

  test("data centers: a list is one comma-joined `locations` (GraphQL) and `dataCenterIds` (REST v2)", () => {
    // runpod/flash serverless.py sync_input_fields: locations = ",".join(datacenter); REST v2 takes the array.
    const several = mapConfig(
      new LiveServerless({ name: "multi", datacenter: [DataCenter.US_KS_2, DataCenter.EU_RO_1] }),
      opts(true),
    );
    expect(several.endpoint.locations).toBe("US-KS-2,EU-RO-1");
    expect(createBody(several).dataCenterIds).toEqual(["US-KS-2", "EU-RO-1"]);
    // Unset: no locations at all, and an update clears a previous pin with [] (a full replace).
    const anywhere = mapConfig(new LiveServerless({ name: "any" }), opts(true));
    expect("locations" in anywhere.endpoint).toBe(false);
    expect("dataCenterIds" in createBody(anywhere)).toBe(false);
    expect(updateBody(anywhere, false).dataCenterIds).toEqual([]);
    // A volume confines the endpoint to its data center even when none is chosen.
    const vol = new NetworkVolume({ name: "weights", dataCenterId: DataCenter.US_KS_2 });
    const onVolume = mapConfig(new LiveServerless({ name: "vol", networkVolume: vol }), {
      ...opts(true),
      volumeId: "vol123",
    });
    expect(onVolume.endpoint).toMatchObject({ locations: "US-KS-2", networkVolumeId: "vol123" });
    expect(createBody(onVolume)).toMatchObject({ dataCenterIds: ["US-KS-2"], networkVolumes: ["vol123"] });
    // RUNPOD_DEFAULT_LOCATIONS overrides the config, as in runpod/flash.
    const env = { RUNPOD_DEFAULT_LOCATIONS: "EU-CZ-1" };
    expect(
      mapConfig(new LiveServerless({ name: "multi", datacenter: DataCenter.US_KS_2 }), opts(true, env)).endpoint
        .locations,
    ).toBe("EU-CZ-1");
  });

  test("a custom-image config runs the user's image without flash's worker mode; templateId is sent as is", () => {
    const own = mapConfig(new ServerlessEndpoint({ name: "mine", imageName: "me/handler:1" }), opts(true));
    expect(own.template!.imageName).toBe("me/handler:1");
    expect(own.template!.env.map((v) => v.key)).toEqual(["FLASH_WORKSPACE"]);
    const byId = mapConfig(new ServerlessEndpoint({ name: "t", templateId: "tmpl123" }), opts(true));
    expect(byId.template).toBeUndefined();
    expect(byId.endpoint.templateId).toBe("tmpl123");
  });

  test("a private image's template carries the registry credentials' id (containerRegistryAuthId)", () => {
    const cfg = new ServerlessEndpoint({
      name: "priv",
      imageName: "ghcr.io/me/private:1",
      containerRegistryAuthId: "cra_1",
    });
    expect(mapConfig(cfg, opts(true)).template!.containerRegistryAuthId).toBe("cra_1");
    const pub = mapConfig(new ServerlessEndpoint({ name: "pub", imageName: "me/public:1" }), opts(true));
    expect(pub.template).not.toHaveProperty("containerRegistryAuthId");
  });

  test("the config hash changes with any sent field and only then", () => {
    const hash = (max: number) => configHash(mapConfig(new LiveServerless({ name: "w", workersMax: max }), opts(true)));
    expect(hash(3)).toBe(hash(3));
    expect(hash(4)).not.toBe(hash(3));
  });
});
