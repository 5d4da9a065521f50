/**
 * What this machine can check of the custom image without Docker or the network: the Dockerfile (read, not built)
 * agrees with the config, with flash's worker image as the emulator knows it, with the packages the code uses and
 * with the command the README maps with `flash emulator --image`; the config becomes a Runpod template that runs the
 * image's own command.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { imageModel } from "../../core/emulator/images";
import { mapConfig } from "../../core/runpod/mapping";
import { customConfig, DEPENDENCIES, IMAGE, stockConfig } from "./gpu_worker";

const root = join(import.meta.dir, "../..");
const folder = "03_advanced_workers/04_custom_images";

/** A Dockerfile's instructions: comments dropped, `\`-continued lines joined, ARG defaults substituted. */
function parseDockerfile(text: string): { op: string; args: string }[] {
  const lines = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const argDefaults: Record<string, string> = {};
  return lines.map((line) => {
    const m = line.match(/^([A-Z]+)\s+(.*)$/);
    if (!m) throw new Error(`not a Dockerfile instruction: ${line}`);
    const [, op, raw] = m as unknown as [string, string, string];
    const args = raw.replace(/\$\{(\w+)\}/g, (_, name: string) => argDefaults[name] ?? `\${${name}}`);
    if (op === "ARG") {
      const [name, value] = args.split("=");
      if (value !== undefined) argDefaults[name!] = value;
    }
    return { op, args };
  });
}

const dockerfile = parseDockerfile(readFileSync(join(import.meta.dir, "Dockerfile"), "utf8"));
const readme = readFileSync(join(import.meta.dir, "README.md"), "utf8");
const one = (op: string) => {
  const found = dockerfile.filter((i) => i.op === op);
  expect(found).toHaveLength(1);
  return found[0]!.args;
};

describe("the Dockerfile (read, not built: docker build needs the network)", () => {
  test("uses only instructions Docker knows, and one stage", () => {
    const known = ["ARG", "FROM", "WORKDIR", "RUN", "COPY", "CMD", "ENV"];
    expect(dockerfile.map((i) => i.op).filter((op) => !known.includes(op))).toEqual([]);
    one("FROM");
  });

  test("starts FROM flash's worker image for linux/amd64, the name the emulator models as flash's worker", () => {
    const [platform, image] = one("FROM").split(/\s+/);
    expect(platform).toBe("--platform=linux/amd64");
    expect(imageModel(image!)?.name).toBe("flash-worker");
    expect(imageModel(image!)?.workerProgram).toBe(true);
    // The README builds that base from flash's GPU Dockerfile under the same tag.
    expect(readme).toContain(`docker build --platform linux/amd64 -f worker/Dockerfile.gpu -t ${image} .`);
    expect(existsSync(join(root, "worker/Dockerfile.gpu"))).toBe(true);
  });

  test("bakes the packages the code uses, at the versions package.json pins, with onnxruntime's CUDA provider", () => {
    const run = one("RUN");
    const added = run
      .match(/bun add --trust ([^&]+)/)![1]!
      .trim()
      .split(/\s+/);
    const pkg = JSON.parse(readFileSync(join(import.meta.dir, "package.json"), "utf8"));
    const pinned = Object.entries(pkg.dependencies as Record<string, string>).map(([n, v]) => `${n}@${v}`);
    expect(added.sort()).toEqual([...DEPENDENCIES].sort());
    expect(added.sort()).toEqual(pinned.sort());
    expect(run).toContain("ONNXRUNTIME_NODE_INSTALL=cuda12 bun add --trust");
    // The build fails when the provider did not arrive: the same file provider.ts looks for.
    expect(run).toContain(
      "test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so",
    );
    expect(readFileSync(join(import.meta.dir, "provider.ts"), "utf8")).toContain('"libonnxruntime_providers_cuda.so"');
  });

  test("copies the handler and what it imports, and its CMD runs the handler", () => {
    const workdir = one("WORKDIR");
    const copy = one("COPY").split(/\s+/);
    const [dest, ...sources] = [copy.pop()!, ...copy];
    expect(dest).toBe("./");
    for (const s of sources) expect(existsSync(join(root, s))).toBe(true);
    expect(sources.map((s) => s.split("/").pop())).toEqual(["provider.ts", "handler.ts"]);
    // handler.ts imports only provider.ts of this folder (and packages the RUN line baked).
    const imports = [...readFileSync(join(import.meta.dir, "handler.ts"), "utf8").matchAll(/from "(\.[^"]+)"/g)];
    expect(imports.map((m) => m[1])).toEqual(["./provider"]);
    expect(JSON.parse(one("CMD"))).toEqual(["bun", "--no-install", `${workdir}/handler.ts`]);
  });

  test("the README shows the Dockerfile as it is (comments aside)", () => {
    const shown = readme.match(/```dockerfile\n([\s\S]*?)```/)![1]!;
    expect(parseDockerfile(shown)).toEqual(dockerfile);
  });

  test("the README's `flash emulator --image` maps the config's image to the CMD, run from this folder's copy", () => {
    const cmd = JSON.parse(one("CMD")) as string[];
    const local = cmd.map((a) => a.replace(`${one("WORKDIR")}/`, `${folder}/`)).join(" ");
    expect(readme).toContain(`--image ${IMAGE}="${local}"`);
  });
});

describe("the configs", () => {
  test("the custom endpoint runs the image's own command: no start command, no flash bootstrap", () => {
    expect(customConfig.kind).toBe("ServerlessEndpoint");
    expect(customConfig.isLive).toBe(false);
    const mapped = mapConfig(customConfig, { live: false, workspace: "ws", env: {} });
    expect(mapped.bootstrap).toBe(false);
    expect(mapped.template!.imageName).toBe(IMAGE);
    // Empty dockerArgs: Runpod starts the image's CMD (runpod-python api/mutations/templates.py sends it as is).
    expect(mapped.template!.dockerArgs).toBe("");
    expect(mapped.template!.env.map((v) => v.key)).not.toContain("FLASH_BOOTSTRAP");
    // The image's CUDA 12.8 runtime: hosts whose driver supports it.
    expect(mapped.endpoint.allowedCudaVersions).toBe("12.8");
  });

  test("the stock endpoint is flash's default GPU image with the bootstrap", () => {
    const mapped = mapConfig(stockConfig, {
      live: false,
      workspace: "ws",
      env: {},
      programHash: "feedfacefeedface",
      bootstrap: "Ym9vdHN0cmFw",
    });
    expect(mapped.bootstrap).toBe(true);
    expect(mapped.template!.dockerArgs).toContain("FLASH_BOOTSTRAP");
    expect(mapped.template!.imageName).not.toBe(IMAGE);
  });
});
