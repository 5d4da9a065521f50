/**
 * The artifact's mothership runtime (`.flash/runtime/mothership.js`, bundled by flash build): flash's worker
 * program with core/dev/app included, for a mothership on a stock image (its start command runs this file).
 */
import * as devApp from "../core/dev/app";
import { runRunpodWorker } from "./main";
import { DEV_APP_LOADER } from "./mothership";

(globalThis as Record<symbol, unknown>)[DEV_APP_LOADER] = async () => devApp;
await runRunpodWorker();
