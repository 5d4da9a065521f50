/**
 * The deployed start commands, checked locally before anything is spent: the build deployed to an in-process
 * emulator through the real deploy path, where every template's container starts from its image and start command
 * against the built artifact (core/emulator/images.ts), and each resource must get a worker that is ready — a
 * job-take (queue) or `/ping` 200 (load-balanced). `flash doctor runpod` runs it first; `bun test` runs it too.
 */
import type { BuildResult } from "../deploy/build";
import { applyDeploy, prepareDeploy } from "../deploy/deploy";

/** The outcome for one resource. */
export interface StartCheck {
  resource: string;
  image: string;
  ok: boolean;
  /** From scale-up to ready (or to the crash). */
  ms: number;
  /** Why not ready: the worker's last lines. */
  detail?: string;
}

/** Options of the check. */
export interface StartCheckOptions {
  /** How long one resource may take to get ready (a Bun download on the GPU image included). */
  timeoutMs?: number;
  /**
   * Whether the platform mounts the artifact (default true). False: as if Runpod did not mount it into stock images;
   * workers with a key then fetch the build themselves, the others must say why they cannot start.
   */
  mount?: boolean;
}

/** Deploy `build` to a throwaway emulator and start one worker of every resource; the emulator is gone after. */
export async function checkStartCommands(build: BuildResult, opts: StartCheckOptions = {}): Promise<StartCheck[]> {
  const { emulatorKey, startEmulator } = await import("../emulator/server");
  const apiKey = emulatorKey();
  // No restart after a crash: the first crash is the answer. The mount is there at once, so no wait between looks.
  const em = startEmulator({
    apiKey,
    control: { templateDeleteDelayMs: 0 },
    workers: { crashBackoffMs: 3_600_000, env: { FLASH_ARTIFACT_WAIT_MS: "100" } },
  });
  em.flashApps.mountArtifacts = opts.mount ?? true;
  try {
    const conn = {
      apiKey,
      urls: { apiBaseUrl: em.apiBaseUrl, endpointBaseUrl: em.endpointBaseUrl, lbBaseUrl: em.lbBaseUrl },
    };
    const prepared = await prepareDeploy(conn, build, build.app, "start-check");
    const outcome = await applyDeploy(conn, build, prepared);
    const checks = Object.entries(outcome.applied.deployed).map(async ([resource, d]): Promise<StartCheck> => {
      const endpoint = em.control.endpoints.get(d.endpoint_id)!;
      const image = d.template.imageName;
      // One worker now, whatever the config's workersMin: the check is that it starts.
      endpoint.workersMin = Math.max(1, endpoint.workersMin);
      const started = performance.now();
      em.supervisor.rescale(endpoint.id);
      const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
      for (;;) {
        const ms = Math.round(performance.now() - started);
        if ([...em.supervisor.workers.values()].some((w) => w.endpointId === endpoint.id && w.everReady)) {
          return { resource, image, ok: true, ms };
        }
        const crashed = em.supervisor.counts(endpoint.id).unhealthy > 0;
        if (crashed || Date.now() > deadline) {
          const tail = em.logs.linesOf(endpoint.id).slice(-8).join("\n");
          const why = crashed ? "its container exited before it was ready" : `not ready after ${ms} ms`;
          return { resource, image, ok: false, ms, detail: `${why}${tail ? `:\n${tail}` : ""}` };
        }
        await Bun.sleep(25);
      }
    });
    return await Promise.all(checks);
  } finally {
    await em.stop();
  }
}
