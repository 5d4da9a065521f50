/**
 * `flash doctor runpod`: the CLI of the doctor (core/doctor/doctor.ts): its flags, the key, the URLs; the steps
 * live in core/doctor/.
 */
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { loadDotEnvOrExit } from "./_shared";
import { log } from "../base/log";
import { locateWorkspace } from "../workspace/discovery";
import { COMMANDS } from "./catalog";
import { parseDuration } from "../base/duration";
import { DOCTOR_DEFAULTS, DOCTOR_PARTS, type DoctorOptions, parseParts, runDoctor } from "../doctor/doctor";

/** `flash doctor`: checks of the environment flash runs against. */
export default defineCommand({
  meta: { name: "doctor", description: COMMANDS.doctor },
  subCommands: {
    runpod: defineCommand({
      meta: {
        name: "runpod",
        description:
          "Smoke-test Runpod with RUNPOD_API_KEY (~15 min, a few cents): the deployed start commands locally, a CPU queue " +
          "and a CPU load-balanced endpoint with the default image, an idle worker, a volume, a CPU endpoint outside EU-RO-1, " +
          "the Flash plane, deploy → undeploy → deploy and the app URL from cold; each step prints its cost and tears down " +
          "what it made; answers the platform's open questions (--gpu adds a GPU cold start)",
      },
      args: {
        "api-url": {
          type: "string",
          description: "API base URL: REST v2 under /v2 (default RUNPOD_API_BASE_URL or https://api.runpod.io)",
        },
        "endpoint-url": {
          type: "string",
          description: "Queue API base (default RUNPOD_ENDPOINT_BASE_URL or https://api.runpod.ai/v2)",
        },
        "lb-url": {
          type: "string",
          description: "LB URL with {id} (default RUNPOD_LB_BASE_URL or https://{id}.api.runpod.ai)",
        },
        "lb-probe": {
          type: "string",
          description: `How long to wait for an LB answer with no workers (default ${DOCTOR_DEFAULTS.lbProbe})`,
        },
        "mount-probe": {
          type: "string",
          description: `How long to watch a stock-image worker for the mounted Flash artifact (default ${DOCTOR_DEFAULTS.mountProbe})`,
        },
        "empty-input-probe": {
          type: "string",
          description: `How long a job with empty input is watched for a dispatch (default ${DOCTOR_DEFAULTS.emptyInputProbe})`,
        },
        "idle-probe": {
          type: "string",
          description: `How long a default-image worker is left idle without its program (default ${DOCTOR_DEFAULTS.idleProbe})`,
        },
        "stream-probe": {
          type: "string",
          description: `How long the stream step waits for its bare worker's job to end (default ${DOCTOR_DEFAULTS.streamProbe})`,
        },
        "region-probe": {
          type: "string",
          description: `How long a CPU endpoint outside EU-RO-1 is watched for a worker (default ${DOCTOR_DEFAULTS.regionProbe})`,
        },
        "gpu-scale-down": {
          type: "string",
          description: `How long the GPU step waits for its worker to stop before the restart (default ${DOCTOR_DEFAULTS.gpuScaleDown})`,
        },
        "cold-start": {
          type: "string",
          description: `How long a route call through the app URL waits out a cold start (default ${DOCTOR_DEFAULTS.coldStart})`,
        },
        "template-wait": {
          type: "string",
          description: `How long the deploy teardown waits for Runpod to release templates (default ${DOCTOR_DEFAULTS.templateWait})`,
        },
        gpu: {
          type: "boolean",
          description:
            "Also run the GPU step: the default GPU image from cold and after a restart (costs GPU time, about $0.05)",
        },
        only: {
          type: "string",
          description: `Run only these parts, comma-separated (${DOCTOR_PARTS.join(", ")}); the key check always runs; gpu only when named or with --gpu`,
        },
      },
      async run({ args }) {
        const cwd = process.cwd();
        loadDotEnvOrExit([locateWorkspace(resolve(cwd)).root, cwd]);
        const { requireApiKey, runpodUrls } = await import("../runpod/connection");
        let key: string;
        try {
          key = requireApiKey();
        } catch (error) {
          log.error((error as Error).message);
          process.exit(1);
        }
        const urls = runpodUrls({
          ...process.env,
          RUNPOD_API_BASE_URL: args["api-url"] || process.env.RUNPOD_API_BASE_URL,
          RUNPOD_ENDPOINT_BASE_URL:
            args["endpoint-url"] ||
            process.env.RUNPOD_ENDPOINT_BASE_URL ||
            (args["api-url"] ? `${args["api-url"].replace(/\/+$/, "")}/v2` : undefined),
          RUNPOD_LB_BASE_URL:
            args["lb-url"] ||
            process.env.RUNPOD_LB_BASE_URL ||
            (args["api-url"] ? `${args["api-url"].replace(/\/+$/, "")}/lb/{id}` : undefined),
        });
        let opts: DoctorOptions;
        try {
          opts = {
            lbProbeMs: parseDuration(args["lb-probe"] ?? DOCTOR_DEFAULTS.lbProbe, "--lb-probe"),
            mountProbeMs: parseDuration(args["mount-probe"] ?? DOCTOR_DEFAULTS.mountProbe, "--mount-probe"),
            emptyInputMs: parseDuration(
              args["empty-input-probe"] ?? DOCTOR_DEFAULTS.emptyInputProbe,
              "--empty-input-probe",
            ),
            idleMs: parseDuration(args["idle-probe"] ?? DOCTOR_DEFAULTS.idleProbe, "--idle-probe"),
            streamMs: parseDuration(args["stream-probe"] ?? DOCTOR_DEFAULTS.streamProbe, "--stream-probe"),
            regionMs: parseDuration(args["region-probe"] ?? DOCTOR_DEFAULTS.regionProbe, "--region-probe"),
            gpuScaleDownMs: parseDuration(args["gpu-scale-down"] ?? DOCTOR_DEFAULTS.gpuScaleDown, "--gpu-scale-down"),
            coldStartMs: parseDuration(args["cold-start"] ?? DOCTOR_DEFAULTS.coldStart, "--cold-start"),
            templateWaitMs: parseDuration(args["template-wait"] ?? DOCTOR_DEFAULTS.templateWait, "--template-wait"),
            only: parseParts(args.only, args.gpu === true),
          };
        } catch (error) {
          log.error((error as Error).message);
          process.exit(1);
        }
        const code = await runDoctor({ ...urls, key }, opts);
        process.exit(code);
      },
    }),
  },
});
