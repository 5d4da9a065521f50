/**
 * The emulator target for tests, offline: a Runpod emulator in this process (real HTTP, real worker subprocesses
 * running worker/main.ts) and the client that ships each call's bundle to it, exactly as `flash run --target emulator`.
 *
 * One difference, so that no test needs the network: a worker installs a function's npm `dependencies` with `bun add`
 * into its cache (`deps/<hash of the specs>/`). Before each call, this harness fills that cache entry from the
 * packages the workspace already installed, as a warm network-volume cache would hold them; the worker then finds
 * the entry installed and skips `bun add`. Everything else (provisioning, bundling, job queue, worker protocol,
 * materializing the bundle, importing it, running the function, the answer's way back) is the real path.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { emulatorKey, startEmulator } from "../../core/emulator/server";
import { specName } from "../../core/runpod/bundle";
import { EmulatorTarget } from "../../core/emulator/emulator-target";
import type { FunctionRequest, FunctionResponse, RemoteFunctionRef, Target } from "../../core/remote/target";
import type { OnChunk } from "../../core/remote/protocol";
import { shortHash } from "../../core/base/fs";

/** An emulator target whose workers' dependency cache is filled from the workspace's installed packages. */
export class OfflineEmulatorTarget implements Target {
  readonly name = "emulator";
  readonly inner: EmulatorTarget;
  private readonly tmp: string;
  private readonly cache: string;

  /**
   * Start an emulator for the workspace at `root`; everything it writes goes to a temp folder, network volumes
   * too unless `volumesDir` names their folder. `images`: local commands standing in for custom images, as
   * `flash emulator --image img=cmd` maps them (run from the emulator's folder).
   */
  constructor(root: string, volumesDir?: string, images?: Record<string, string | string[]>) {
    this.tmp = realpathSync(mkdtempSync(join(tmpdir(), "flash-emulator-target-")));
    this.cache = join(this.tmp, "worker-cache");
    const apiKey = emulatorKey();
    const emulator = startEmulator({
      apiKey,
      retireGraphql: true, // as `flash run --target emulator`: provisioning needs REST v2 alone
      workers: {
        env: { FLASH_WORKER_CACHE: this.cache },
        volumesDir: volumesDir ?? join(this.tmp, "volumes"),
        images,
      },
    });
    this.inner = new EmulatorTarget(emulator, { apiKey, root, statePath: join(this.tmp, "resources.json") });
  }

  /** Fill the worker cache entry of the function's dependency set, then make the call on the emulator. */
  call(
    fn: RemoteFunctionRef,
    req: FunctionRequest,
    signal?: AbortSignal,
    onChunk?: OnChunk,
  ): Promise<FunctionResponse> {
    this.seed(fn);
    return this.inner.call(fn, req, signal, onChunk);
  }

  /** Remove the live endpoints, stop the emulator and its workers, delete the temp folder. */
  async shutdown(): Promise<void> {
    try {
      await this.inner.shutdown();
    } finally {
      rmSync(this.tmp, { recursive: true, force: true });
    }
  }

  /** What /health shows. */
  status(): unknown {
    return this.inner.status();
  }

  private seed(fn: RemoteFunctionRef): void {
    seedWorkerDependencies(this.cache, fn.module, fn.options.dependencies);
  }
}

/**
 * Fill the worker cache `cache`'s entry for the npm `dependencies` of a function defined in `module` (absolute) from
 * the packages the workspace installed, as a warm network-volume cache would hold them: the worker finds the entry
 * installed and skips `bun add` (which needs the network).
 */
export function seedWorkerDependencies(cache: string, module: string, dependencies: string[] | undefined): void {
  // Same key as worker/deps.ts ensureNpmDependencies: the sorted, de-duplicated specs.
  const specs = [...new Set(dependencies ?? [])].sort();
  if (!specs.length) return;
  const dir = join(cache, "deps", shortHash(JSON.stringify(specs)));
  if (existsSync(join(dir, ".installed"))) return;
  const modules = installedModules(dirname(module), specs.map(specName));
  mkdirSync(dir, { recursive: true });
  symlinkSync(modules, join(dir, "node_modules"), "dir");
  writeFileSync(join(dir, ".installed"), "seeded from the workspace's installed packages (test harness)");
}

/** The nearest node_modules above `from` that holds every package in `names`. */
function installedModules(from: string, names: string[]): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules");
    if (names.every((n) => existsSync(join(candidate, n)))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`packages ${names.join(", ")} are not installed above ${from}: run bun install`);
}

/**
 * Create a serverless endpoint on an emulator as runpod-python's `create_endpoint` does (GraphQL `saveEndpoint`);
 * returns its id, or throws with the answer when the mutation failed.
 */
export async function saveEndpoint(apiBaseUrl: string, key: string, input: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${apiBaseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: "mutation s($input: EndpointInput!) { saveEndpoint(input: $input) { id } }",
      variables: { input },
    }),
  });
  const body = (await res.json()) as { data?: { saveEndpoint?: { id: string } } };
  const id = body.data?.saveEndpoint?.id;
  if (!id) throw new Error(`saveEndpoint failed (HTTP ${res.status}): ${JSON.stringify(body)}`);
  return id;
}
