/**
 * `flash run --target runpod` the day Runpod's GraphQL API is gone: the runpod target (createTarget, as the CLI
 * builds it from RUNPOD_* settings) against an emulator that serves GraphQL only for Flash apps keeps the same
 * remote-call contract as the local pool (a GraphQL call other than Flash apps would get 410 and fail the suite).
 * Every REST v2 exchange of the run is then checked against Runpod's document.
 */
import { describe, expect, test } from "bun:test";
import type { RestV2Exchange } from "../../core/emulator/planes/rest-v2";
import { createTarget } from "../../core/runpod/runpod-target";
import { FAKE_KEY, startHarness } from "../fixtures/runpod/harness";
import { checkExchange, operationOf } from "./openapi-v2.check";
import { describeTargetContract } from "./targets.case";

const exchanges: RestV2Exchange[] = [];
let ended = false;

describeTargetContract("runpod (REST v2, GraphQL retired)", async () => {
  const h = startHarness({ retireGraphql: true, restObserver: (x) => exchanges.push(x) });
  const target = await createTarget("runpod", {
    root: h.root,
    env: {
      RUNPOD_API_KEY: FAKE_KEY,
      RUNPOD_API_BASE_URL: h.em.apiBaseUrl,
      RUNPOD_ENDPOINT_BASE_URL: h.em.endpointBaseUrl,
      RUNPOD_LB_BASE_URL: h.em.lbBaseUrl,
    },
  });
  return {
    target,
    root: h.root,
    async stop() {
      await target.shutdown();
      await h.stop();
      ended = true;
    },
  };
});

describe("the run's REST v2 traffic", () => {
  test("conforms to Runpod's document, and covers create, list and delete", () => {
    expect(ended).toBe(true);
    expect(exchanges.flatMap(checkExchange)).toEqual([]);
    const ops = new Set(exchanges.map(operationOf));
    for (const op of ["listEndpoints", "createEndpoint", "deleteEndpoint"]) expect(ops).toContain(op);
  });
});
