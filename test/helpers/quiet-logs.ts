// Preloaded by `bun test` (bunfig.toml): flash's log lines are not printed during tests, so a passing run shows only
// pass lines. Many tests provoke errors on purpose, and their `[error]` lines read as failures. Tests that check log
// lines add their own reporter, which still receives every line. FLASH_TEST_LOGS=1 prints them again.
import { log } from "../../core/base/log";

if (process.env.FLASH_TEST_LOGS !== "1") log.setReporters([]);
