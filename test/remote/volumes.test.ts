// Network volumes off Runpod: one folder per volume name under the volumes folder, shared by every config that
// names the volume, visible where `volume.path` says (thread and process workers of the local pool, and workers
// of the emulator), kept across restarts; bad names are refused when the volume is declared.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, CpuLiveServerless, NetworkVolume } from "../../core/remote/config";
import { LocalTarget } from "../../core/remote/local/local-target";
import { setTarget } from "../../core/remote/target";
import { noVolume, readNote, shared, writeNote } from "../fixtures/remote/volumes";
import { OfflineEmulatorTarget } from "../helpers/emulator";
import { REPO } from "../helpers/workspace";

const temp = realpathSync(mkdtempSync(join(tmpdir(), "flash-volumes-")));
afterAll(async () => {
  setTarget(new LocalTarget()); // the default target, for the next file a --no-isolate worker runs
  rmSync(temp, { recursive: true, force: true });
});

describe("NetworkVolume names", () => {
  for (const bad of ["../escape", ".hidden", "a/b", "dots.are.out", "x".repeat(256), "new\nline"]) {
    test(`refuses ${JSON.stringify(bad.slice(0, 20))}`, () => {
      expect(() => new NetworkVolume({ name: bad })).toThrow(ConfigError);
      expect(() => new NetworkVolume({ name: bad })).toThrow(/name may hold only letters, digits, spaces, "-" and "_"/);
    });
  }
  test("accepts letters, digits, spaces, - and _", () => {
    expect(new NetworkVolume({ name: "Shared models_2" }).name).toBe("Shared models_2");
  });
  test("volume.path outside a worker says where to use it", () => {
    expect(() => shared.path).toThrow(/NetworkVolume "test-shared" is not mounted here .*inside a remote function/);
  });
  test("a config keeps its volume", () => {
    expect(new CpuLiveServerless({ name: "c", networkVolume: shared }).networkVolume).toBe(shared);
  });
});

describe("local pool", () => {
  const volumes = join(temp, "local-volumes");

  test("two configs sharing a volume see each other's files (thread writer, process reader)", async () => {
    setTarget(new LocalTarget({ volumesDir: volumes }));
    const folder = join(volumes, "test-shared");
    const wrote = await writeNote("hello.txt", "written by the writer");
    expect(wrote.mount).toBe(folder);
    expect(wrote.pid).toBe(process.pid); // a thread worker
    const read = await readNote("hello.txt");
    expect(read).toMatchObject({ mount: folder, text: "written by the writer", files: ["hello.txt"] });
    expect(read.pid).not.toBe(process.pid); // a process worker
    expect(readFileSync(join(folder, "hello.txt"), "utf8")).toBe("written by the writer");
  }, 60_000);

  test("a worker of a config without the volume does not have it", async () => {
    const answer = await noVolume();
    expect(answer.error).toMatch(/ConfigError: NetworkVolume "test-shared" is not mounted here/);
    expect(answer.error).toContain("not a worker of an endpoint that uses it");
  }, 60_000);

  test("the folder outlives the server: a new target finds the files", async () => {
    setTarget(new LocalTarget({ volumesDir: volumes })); // shuts the previous target and its workers down
    expect((await readNote("hello.txt")).text).toBe("written by the writer");
  }, 60_000);
});

describe("emulator", () => {
  const volumes = join(temp, "emulator-volumes");

  test("one volume is created by name, both endpoints mount it, and its workers share the folder", async () => {
    const target = new OfflineEmulatorTarget(REPO, volumes);
    setTarget(target);
    const folder = join(volumes, "test-shared");
    // Each container sees the volume at its own /runpod-volume (under its root), which is the volume's folder.
    const wrote = await writeNote("from-emulator.txt", "queued write");
    expect(wrote.mount).toMatch(/\/runpod-volume$/);
    const read = await readNote("from-emulator.txt");
    expect(read).toMatchObject({ text: "queued write", files: ["from-emulator.txt"] });
    expect(read.mount).toMatch(/\/runpod-volume$/);
    expect(read.mount).not.toBe(wrote.mount);
    const control = target.inner.emulator.control;
    const created = [...control.volumes.values()];
    expect(created).toEqual([{ id: expect.any(String), name: "test-shared", size: 10, dataCenterId: "EU-RO-1" }]);
    const mounting = [...control.endpoints.values()].filter((e) => e.networkVolumeId === created[0]!.id);
    expect(mounting.map((e) => e.name).sort()).toEqual(["live-test_volume_reader-fb", "live-test_volume_writer-fb"]);
    expect(existsSync(join(folder, "from-emulator.txt"))).toBe(true);
  }, 120_000);

  test("the folder outlives the emulator: a new one creates the volume again and finds the files", async () => {
    setTarget(new OfflineEmulatorTarget(REPO, volumes));
    expect((await readNote("from-emulator.txt")).text).toBe("queued write");
  }, 120_000);
});
