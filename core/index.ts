/**
 * The public API of flash, imported by examples as `"flash"`. Elysia and `t` are re-exported so that examples
 * and the flash binary share one copy of them.
 */
export { Elysia, t } from "elysia";
export { logger } from "./base/log";
export { pyTitle } from "./workspace/names";
export { InputError, validationError, type FieldProblem } from "./base/errors";
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
  ServerlessScalerType,
  ServerlessType,
} from "./remote/enums";
export type { FunctionRequest, FunctionResponse, RemoteOptions } from "./remote/protocol";
