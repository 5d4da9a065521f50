import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { exampleHarness } from "../../test/helpers/example";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listGpus } from "../../core/base/gpu";
import { dataProblem } from "./validation";
import { installedVersion, packageName, versionsOf } from "./versions";
import { columnStats, minimalProcess, processData } from "./workers/cpu/endpoint";
import { ffmpegVersion, matrixChecksum, processWithMlLibs } from "./workers/gpu/endpoint";
import pkg from "./package.json";
import { mothership } from "./mothership";

const EXAMPLE = 'Example: {"data": [[1, 2], [3, 4]]}';
const ex = exampleHarness(import.meta.dir);
// Worker starts (GPU configs: subprocesses) take seconds on a loaded machine.
setDefaultTimeout(30_000);
const { post, pool } = ex;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "flash-04-deps-"));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("POST /cpu/data (simple-statistics, a per-function dependency)", () => {
  test("mean, sample std and sum per column, as pandas computes them", async () => {
    const { status, body } = await post("/cpu/data", {
      data: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    });
    expect(status).toBe(200);
    expect(body.stats).toEqual({ mean: { A: 3, B: 4 }, std: { A: 2, B: 2 }, sum: { A: 9, B: 12 } });
    expect(body.matrix).toEqual({ shape: [3, 2], mean: 3.5 });
    expect(body.versions).toEqual({ "simple-statistics": pkg.dependencies["simple-statistics"] });
  });

  test("uneven data: values computed by hand", async () => {
    const { body } = await post("/cpu/data", {
      data: [
        [1, 10],
        [2, 20],
        [4, 60],
        [9, 10],
      ],
    });
    // A = 1,2,4,9: mean 4, deviations -3,-2,0,5 → Σd² = 38, sample var 38/3
    expect(body.stats.mean).toEqual({ A: 4, B: 25 });
    expect(body.stats.std.A).toBeCloseTo(Math.sqrt(38 / 3), 6);
    // B = 10,20,60,10: mean 25, deviations -15,-5,35,-15 → Σd² = 1700
    expect(body.stats.std.B).toBeCloseTo(Math.sqrt(1700 / 3), 6);
    expect(body.stats.sum).toEqual({ A: 16, B: 100 });
    expect(body.matrix).toEqual({ shape: [4, 2], mean: 14.5 });
  });

  test.each([
    [[], "Data cannot be empty"],
    [[[1, 2]], `Need at least 2 rows to compute statistics, got 1. ${EXAMPLE}`],
    [[[1, 2], [3]], `Row 1 has 1 columns, expected exactly 2. ${EXAMPLE}`],
    [
      [
        [1, 2, 3],
        [3, 4],
      ],
      `Row 0 has 3 columns, expected exactly 2. ${EXAMPLE}`,
    ],
  ])("data %j is a 422 with the original's message", async (data, msg) => {
    const { status, body } = await post("/cpu/data", { data });
    expect(status).toBe(422);
    expect(body.detail).toEqual([{ loc: ["body", "data"], msg, type: "value_error", input: data }]);
  });

  test("a cell that is not a number is a 422 at its position", async () => {
    const { status, body } = await post("/cpu/data", {
      data: [
        [1, "x"],
        [2, 3],
      ],
    });
    expect(status).toBe(422);
    expect(body.detail[0].loc).toEqual(["body", "data", 0, 1]);
  });
});

describe("POST /cpu/minimal (no dependencies)", () => {
  test("counts words, characters, capitals and digits", async () => {
    const { status, body } = await post("/cpu/minimal", { text: "Hello World 2024" });
    expect(status).toBe(200);
    expect(body.result.text_analysis).toEqual({ word_count: 3, char_count: 16, uppercase_count: 2, has_numbers: true });
    expect(body.result.runtime_version).toBe(`bun ${Bun.version}`);
    expect(body.message).toBe("No external dependencies needed!");
  });

  test("Unicode capitals count; no digits; empty text", async () => {
    expect((await post("/cpu/minimal", { text: "ÉCOLE été" })).body.result.text_analysis).toEqual({
      word_count: 2,
      char_count: 9,
      uppercase_count: 5,
      has_numbers: false,
    });
    expect((await post("/cpu/minimal", { text: "" })).body.result.text_analysis.word_count).toBe(0);
  });

  test("a missing text is a 422", async () => {
    const { status, body } = await post("/cpu/minimal", {});
    expect(status).toBe(422);
    expect(body.detail[0].loc).toEqual(["body", "text"]);
  });
});

describe("POST /gpu/ml-deps and /gpu/system-deps", () => {
  test("ml-deps reports the installed version of each package it was given and uses it", async () => {
    const { status, body } = await post("/gpu/ml-deps");
    expect(status).toBe(200);
    expect(body.dependencies).toEqual(["ml-matrix@6.15.1"]);
    expect(body.versions).toEqual({ "ml-matrix": pkg.dependencies["ml-matrix"] });
    expect(body.matrix_test.result).toBe(await matrixChecksum());
    const gpus = listGpus();
    if (gpus.length === 0) expect(body.gpu).toBe("No GPU available");
    else expect(gpus.map((g) => g.name)).toContain(body.gpu);
    expect((await post("/gpu/ml-deps", {})).status).toBe(200);
  });

  test("the matrix checksum matches a plain-loop computation", async () => {
    const n = 100;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        for (let k = 0; k < n; k++) total += Math.sin(i + k) * Math.sin(j + k);
      }
    }
    expect(await matrixChecksum()).toBeCloseTo(total, 3);
  });

  test("system-deps answers whether ffmpeg is installed on the worker: 200 success, or 503 missing", async () => {
    const { status, body } = await post("/gpu/system-deps");
    const local = ffmpegVersion();
    expect(status).toBe(local === null ? 503 : 200);
    expect(body.status).toBe(local === null ? "missing" : "success");
    expect(body.system_dependencies).toEqual(["ffmpeg"]);
    expect(body.ffmpeg_available).toBe(local !== null);
    if (local === null) {
      expect(body.message).toBe("System dependency missing: ffmpeg");
      expect(body.ffmpeg_version).toStartWith("not installed");
    } else {
      expect(body.message).toBe("System dependencies available");
      expect(body.ffmpeg_version).toStartWith("ffmpeg version");
    }
  });

  test("range-spec: a dependency declared as ^7.8.0 reports the version it got, which satisfies the range", async () => {
    const { status, body } = await post("/cpu/range-spec", { numbers: [5, 1, 3] });
    expect(status).toBe(200);
    expect(body).toEqual({
      status: "success",
      median: 3,
      declared: "simple-statistics@^7.8.0",
      installed: "simple-statistics@7.12.1",
      satisfies_range: true,
    });
    const empty = await post("/cpu/range-spec", { numbers: [] });
    expect(empty.status).toBe(422);
    expect(empty.body.detail[0]).toMatchObject({
      loc: ["body", "numbers"],
      msg: "numbers must be a list of 1 to 10000 numbers",
    });
  });

  test("ffmpegVersion runs the ffmpeg found on PATH and returns its first line", () => {
    const bin = join(tmp, "ffmpeg");
    writeFileSync(
      bin,
      "#!/bin/sh\necho 'ffmpeg version 9.9-test Copyright (c) the FFmpeg developers'\necho 'built with a fake'\n",
    );
    chmodSync(bin, 0o755);
    expect(ffmpegVersion(tmp)).toBe("ffmpeg version 9.9-test Copyright (c) the FFmpeg developers");
    expect(ffmpegVersion(join(tmp, "nothing-here"))).toBeNull();
  });

  test("an ffmpeg that fails is an error, not a version", () => {
    const dir = join(tmp, "broken");
    Bun.spawnSync(["mkdir", "-p", dir]);
    writeFileSync(join(dir, "ffmpeg"), "#!/bin/sh\necho 'libavcodec.so: not found' >&2\nexit 127\n");
    chmodSync(join(dir, "ffmpeg"), 0o755);
    expect(() => ffmpegVersion(dir)).toThrow("ffmpeg -version exited with 127: libavcodec.so: not found");
  });
});

describe("remote functions on the local pool", () => {
  test("each function runs on its own endpoint's pool", async () => {
    await processData({
      data: [
        [1, 2],
        [3, 4],
      ],
    });
    await minimalProcess({ text: "x" });
    await processWithMlLibs();
    expect((await pool("01_04_cpu_data")).calls).toBeGreaterThanOrEqual(1);
    expect((await pool("01_04_cpu_minimal")).calls).toBeGreaterThanOrEqual(1);
    expect((await pool("01_04_gpu_ml")).calls).toBeGreaterThanOrEqual(1);
  });

  test("processData without data uses the original's default rows", async () => {
    const result = await processData({});
    expect(result.matrix).toEqual({ shape: [3, 2], mean: 3.5 });
  });
});

describe("helpers", () => {
  test("packageName strips the version, keeping scopes", () => {
    expect(packageName("ml-matrix@6.15.1")).toBe("ml-matrix");
    expect(packageName("@scope/pkg@^1.0.0")).toBe("@scope/pkg");
    expect(packageName("plain")).toBe("plain");
  });

  test("installedVersion reads the package's own manifest, or says it is missing", () => {
    expect(installedVersion("simple-statistics")).toBe(pkg.dependencies["simple-statistics"]);
    expect(installedVersion("no-such-package-flash-test")).toBe("not installed");
    expect(versionsOf(["ml-matrix@6.15.1"])).toEqual({ "ml-matrix": "6.15.1" });
  });

  test("dataProblem accepts two rows of two", () => {
    expect(
      dataProblem([
        [1, 2],
        [3, 4],
      ]),
    ).toBeNull();
  });

  test("columnStats of two rows", async () => {
    // [0, 2] and [0, 4]: sample std √2 and √8, rounded to 6 decimals
    expect(
      (
        await columnStats([
          [0, 0],
          [2, 4],
        ])
      ).stats.std,
    ).toEqual({ A: 1.414214, B: 2.828427 });
  });
});

test("mothership.ts: the CPU load balancer that would serve the routes when deployed", () => {
  expect(mothership.kind).toBe("CpuLiveLoadBalancer");
  expect(mothership.isLoadBalancer).toBe(true);
  expect(mothership.name).toBe("01_04_dependencies-mothership");
});
