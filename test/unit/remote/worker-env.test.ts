// The environment a pool worker starts with (core/remote/local/worker-env.ts): what it inherits, what makes it a
// worker of its pool, its GPUs and its network volume's folder.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CpuLiveServerless, LiveServerless, NetworkVolume } from "../../../core/remote/config";
import { spawnProblem, workerEnv } from "../../../core/remote/local/worker-env";

const volumes = mkdtempSync(join(tmpdir(), "flash-worker-env-"));
afterAll(() => rmSync(volumes, { recursive: true, force: true }));

const base = { PATH: "/usr/bin", FLASH_VOLUME_NAME: "server's", FLASH_VOLUME_PATH: "/server", SHARED: "server" };

describe("workerEnv", () => {
  test("inherits the server's variables, then the config's, then the pool's; names the worker and its modules", () => {
    const config = new CpuLiveServerless({ name: "env_cpu", env: { SHARED: "config", ONLY_CONFIG: "1" } });
    const env = workerEnv({ config, n: 7, modules: ["/ws/a.ts", "/ws/b.ts"], devices: null, env: { POOL: "p" }, base });
    expect(env).toMatchObject({ PATH: "/usr/bin", SHARED: "config", ONLY_CONFIG: "1", POOL: "p" });
    expect(env).toMatchObject({ FLASH_WORKER: "1", FLASH_RESOURCE_NAME: "env_cpu", FLASH_WORKER_ID: "7" });
    expect(JSON.parse(env.FLASH_PRELOAD!)).toEqual(["/ws/a.ts", "/ws/b.ts"]);
  });

  test("a CPU worker sees no GPU; a GPU worker gets its devices in PCI bus order", () => {
    const cpu = workerEnv({ config: new CpuLiveServerless({ name: "c" }), n: 1, modules: [], devices: null, base });
    expect(cpu.CUDA_VISIBLE_DEVICES).toBe("");
    const gpu = workerEnv({ config: new LiveServerless({ name: "g" }), n: 1, modules: [], devices: "1,3", base });
    expect(gpu).toMatchObject({ CUDA_VISIBLE_DEVICES: "1,3", CUDA_DEVICE_ORDER: "PCI_BUS_ID" });
    const unpinned = workerEnv({ config: new LiveServerless({ name: "g" }), n: 1, modules: [], devices: null, base });
    expect(unpinned.CUDA_VISIBLE_DEVICES).toBeUndefined(); // no GPU assigned: the variable is left alone
  });

  test("only a config's own network volume is mounted, in a folder named after it (created)", () => {
    const withVolume = new CpuLiveServerless({ name: "v", networkVolume: new NetworkVolume({ name: "models" }) });
    const env = workerEnv({ config: withVolume, n: 1, modules: [], devices: null, volumesDir: volumes, base });
    expect(env).toMatchObject({ FLASH_VOLUME_NAME: "models", FLASH_VOLUME_PATH: join(volumes, "models") });
    expect(existsSync(join(volumes, "models"))).toBe(true);
    const without = workerEnv({ config: new CpuLiveServerless({ name: "w" }), n: 1, modules: [], devices: null, base });
    expect(without.FLASH_VOLUME_NAME).toBeUndefined();
    expect(without.FLASH_VOLUME_PATH).toBeUndefined();
  });
});

test("spawnProblem names the largest variable when the environment is too large (E2BIG)", () => {
  const err = Object.assign(new Error("spawn E2BIG"), { code: "E2BIG" });
  expect(spawnProblem(err, { SMALL: "x", HUGE: "a".repeat(300 * 1024) })).toContain("HUGE is 300 KiB");
  expect(spawnProblem(new Error("ENOENT: no such file\nmore"), {})).toBe("ENOENT: no such file");
});
