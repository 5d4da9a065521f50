/**
 * The artifact's mothership runtime (`.flash/runtime/mothership.js`, bundled by flash build): flash's worker
 * program with core/app/app.ts included, for a mothership on a stock image (its start command runs this file).
 */
import * as app from "../core/app/app";
import { runRunpodWorker } from "./main";
import { APP_LOADER } from "./mothership";

(globalThis as Record<symbol, unknown>)[APP_LOADER] = async () => app;
await runRunpodWorker();
