/**
 * The public API of flash, imported by examples as `"flash"`. Elysia and `t` are re-exported so that examples
 * and the flash binary share one copy of them.
 */
export { Elysia, t } from "elysia";
export { logger } from "./log";
export { InputError } from "./errors";
export { gpuInfo, listGpus, type GpuInfo, type GpuDevice } from "./gpu";
