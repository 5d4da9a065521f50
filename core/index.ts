/**
 * The public API of flash, imported by examples as `"flash"`. Elysia and `t` are re-exported so that examples
 * and the flash binary share one copy of them.
 */
import { Type } from "@sinclair/typebox";
import { t as elysiaT } from "elysia";

export { Elysia } from "elysia";

/**
 * Elysia's `t`, with `t.Integer` a JSON integer (TypeBox's), as `t.Number` is a JSON number: Elysia's own
 * `t.Integer` also takes numeric strings, so the OpenAPI document typed such body fields `string | number`. For
 * query strings and path parameters (always strings), use `t.Numeric`.
 */
export const t: typeof elysiaT = Object.assign(Object.create(elysiaT), {
  Integer: (options?: Parameters<typeof Type.Integer>[0]) => Type.Integer(options),
});
export { logger } from "./base/log";
export { pyTitle } from "./workspace/names";
export { InputError, validationError, type FieldProblem } from "./base/errors";
export { sse, sseResponses, type SseOptions } from "./base/sse";
export { gpuInfo, listGpus, type GpuInfo, type GpuDevice } from "./base/gpu";
export {
  remote,
  type RemoteFunction,
  type RemoteClass,
  type RemoteInstance,
  type RemoteDecorator,
} from "./remote/remote";
export { RemoteError } from "./remote/errors";
export {
  ConfigError,
  ServerlessResource,
  LiveServerless,
  CpuLiveServerless,
  LiveLoadBalancer,
  CpuLiveLoadBalancer,
  ServerlessEndpoint,
  CpuServerlessEndpoint,
  NetworkVolume,
  secret,
  type ResourceConfig,
  type ServerlessResourceOptions,
  type NetworkVolumeOptions,
  type ConfigKind,
} from "./remote/config";
export {
  GpuGroup,
  GpuType,
  CpuInstanceType,
  CudaVersion,
  DataCenter,
  CPU_DATACENTERS,
  ServerlessScalerType,
  ServerlessType,
} from "./remote/enums";
export type { FunctionRequest, FunctionResponse, RemoteOptions } from "./remote/protocol";
