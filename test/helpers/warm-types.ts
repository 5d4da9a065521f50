// Preloaded by `bun test` (bunfig.toml): `flash init` and `flash test` from source write the runtime's declarations,
// which tsc emits once per change of core (seconds, then cached in .flash/). Emitting here, before any test starts,
// keeps that one-time cost out of the tests that spawn those commands.
import { runtimeTypes } from "../../core/workspace/runtime-types";

runtimeTypes();
