/**
 * The deploy tier: tests that deploy to `flash emulator` end to end (the whole repository at once, and every README's
 * deploy block). Each container unpacks its app's artifact as a Runpod worker does, which is CPU the 2-minute suite
 * cannot hold, so `bun run test:deploy` runs them (CI runs it after `test:all`) and the suite lists them as skipped.
 */
export const DEPLOY_TIER = process.env.FLASH_TEST_DEPLOY === "1";

/** The suffix of a deploy-tier test's title where it is skipped: the command that runs it. */
export const RUNS_IN_DEPLOY_TIER = "runs in bun run test:deploy";
