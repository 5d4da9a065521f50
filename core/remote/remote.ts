/**
 * `remote(config, fn, options?)`: wrap a function (or a class, or decorate a class or method) so that calling
 * it runs it on the current target — a local worker pool by default — with the semantics of the endpoint
 * `config` describes. Inside a worker it returns the plain function, so the executor can run the real code.
 */
import { dirname } from "node:path";
import { logger } from "../base/log";
import { isResourceConfig, type ResourceConfig } from "./config";
import { HTTP_METHODS } from "./enums";
import { isGeneratorFunction } from "./generators";
import { RemoteError } from "./errors";
import { checkArgs } from "./json-values";
import type { FunctionRequest, FunctionResponse, RemoteFunctionRef, RemoteOptions } from "./protocol";
import { toWireError } from "./errors";
import { type CallSite, callerSite, exportNameOf, loadedExports } from "./identity";
import { isWorkerMode, register } from "./worker/registry";
import { currentTarget } from "./target";
import { log } from "../base/log";
import { currentCallSignal } from "../base/call-context";

type AnyFn = (...args: any[]) => any;
type AnyClass = abstract new (...args: any[]) => any;

/**
 * A function's remote form: same parameters, always async, resolving to the awaited result. A generator function
 * (`async function*`, or `function*`) streams: its remote form returns an async generator of what it yields, each
 * value as soon as the worker yields it.
 */
export type RemoteFunction<F extends AnyFn> = [ReturnType<F>] extends [
  AsyncGenerator<infer T, any, any> | Generator<infer T, any, any>,
]
  ? (...args: Parameters<F>) => AsyncGenerator<T, void, undefined>
  : (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;

/** An object's remote form: every method async. */
export type RemoteInstance<T> = { [K in keyof T]: T[K] extends AnyFn ? RemoteFunction<T[K]> : never };

/** A class's remote form: constructing it is local and cheap; the real instance lives in one worker. */
export type RemoteClass<C extends AnyClass> = new (
  ...args: ConstructorParameters<C>
) => RemoteInstance<InstanceType<C>>;

/** What `@remote(config)` returns: a decorator for classes and methods. */
export type RemoteDecorator = <T>(value: T, context: ClassDecoratorContext | ClassMethodDecoratorContext) => T;

/** Run `fn` remotely on `config`'s target; returns an async function with the same parameters. */
export function remote<F extends AnyFn>(config: ResourceConfig, fn: F, options?: RemoteOptions): RemoteFunction<F>;
/** Make a stateful remote class: its constructor runs in one worker and every method call goes to that instance. */
export function remote<C extends AnyClass>(config: ResourceConfig, cls: C, options?: RemoteOptions): RemoteClass<C>;
/** The decorator form, for classes (stateful remote objects) and class methods: `@remote(config)`. */
export function remote(config: ResourceConfig, options?: RemoteOptions): RemoteDecorator;
export function remote(config: ResourceConfig, target?: unknown, options?: RemoteOptions): unknown {
  if (!isResourceConfig(config)) {
    throw new TypeError(
      "remote(config, fn): the first argument must be a resource config (new LiveServerless({ name }), …)",
    );
  }
  const site = isWorkerMode() ? null : callerSite();
  if (typeof target === "function") {
    const opts = checkOptions(config, options, nameOf(target, site));
    return wrap(config, target as AnyFn, opts, site, nameOf(target, site));
  }
  if (target !== undefined && (typeof target !== "object" || target === null)) {
    throw new TypeError(
      "remote(config, fn, options?): the second argument must be a function, a class or an options object",
    );
  }
  const decoratorOptions = target as RemoteOptions | undefined;
  return ((value: unknown, context: ClassDecoratorContext | ClassMethodDecoratorContext) => {
    const name = String(context.name ?? "anonymous");
    const opts = checkOptions(config, decoratorOptions, name);
    if (context.kind === "class") {
      const wrapped = wrap(config, value as AnyFn, opts, site, name, "class") as AnyFn;
      // Static fields are set on the original class after its decorators ran; copy them once they exist.
      if (wrapped !== value) context.addInitializer(() => copyStatics(value as AnyFn, wrapped));
      return wrapped;
    }
    if (context.kind === "method") return wrapMethod(config, value as AnyFn, opts, site, name, context);
    throw new TypeError(
      `@remote can decorate classes and methods, not a ${(context as { kind: string }).kind} ("${name}")`,
    );
  }) as RemoteDecorator;
}

function nameOf(value: unknown, site: CallSite | null): string {
  const n = (value as { name?: string }).name;
  if (n) return n;
  return site ? `${site.file.split("/").pop()}:${site.line}` : "anonymous";
}

function isClass(value: AnyFn): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** Each config name's config (as JSON) and the folder that declared it, to tell two examples sharing a name. */
const declared = new Map<string, { json: string; folder: string; warned?: boolean }>();

/**
 * Warn when two folders declare different configs under one name: a config name is an endpoint name, so `flash
 * deploy` refuses it, and `flash run` would serve both with one pool. The same folder may re-declare a name (a hot
 * reload does).
 */
function warnSharedName(config: ResourceConfig, site: CallSite | null): void {
  if (!site) return;
  const json = JSON.stringify(config);
  const folder = dirname(site.file);
  const seen = declared.get(config.name);
  if (!seen || seen.folder === folder) {
    declared.set(config.name, { json, folder, warned: seen?.warned });
    return;
  }
  if (seen.json === json || seen.warned) return;
  seen.warned = true;
  logger("remote").warn(
    `two different configs are named "${config.name}" (in ${seen.folder} and ${folder}): resource names must be ` +
      "unique (they are endpoint names; flash deploy refuses this), and flash run serves both with one pool",
  );
}

function wrap(
  config: ResourceConfig,
  value: AnyFn,
  options: RemoteOptions,
  site: CallSite | null,
  name: string,
  force?: "class",
): unknown {
  const kind = force ?? (isClass(value) ? "class" : "function");
  if (isWorkerMode()) {
    if (kind === "function") {
      register({ value, kind });
      return value;
    }
    const handle = lazyClass(value);
    register({ value, kind }, handle);
    return handle;
  }
  warnSharedName(config, site);
  const ref = newRef(config, site, name, kind, options);
  currentTarget().prepare?.(ref);
  if (kind === "class") return remoteClass(ref, value);
  return isGeneratorFunction(value) ? streamingFunction(ref) : remoteFunction(ref);
}

/**
 * A remote class as module code sees it inside a worker. The module builds its handle at import (`const tagger =
 * new Tagger()` for its routes), but in a worker the executor builds the instance that serves calls: constructing
 * the real class there too would run the constructor (a model load) once more, at import, for an instance nobody
 * calls. So `new` here gives an object that builds the real instance on its first use.
 */
function lazyClass(cls: AnyFn): AnyFn {
  const handle: AnyFn = new Proxy(cls, {
    construct(target, args, newTarget) {
      const as = newTarget === handle ? target : newTarget; // a subclass of the handle builds as itself
      let real: Record<PropertyKey, unknown> | undefined;
      const build = () => (real ??= Reflect.construct(target, args, as) as Record<PropertyKey, unknown>);
      return new Proxy(Object.create(target.prototype) as object, {
        get: (_o, prop) => {
          const value = build()[prop];
          return typeof value === "function" ? value.bind(real) : value;
        },
        set: (_o, prop, value) => Reflect.set(build(), prop, value),
        has: (_o, prop) => prop in build(),
      });
    },
  });
  return handle;
}

function newRef(
  config: ResourceConfig,
  site: CallSite | null,
  name: string,
  kind: "function" | "class",
  options: RemoteOptions,
): RemoteFunctionRef {
  const ref: RemoteFunctionRef = { config, module: site?.file ?? "<unknown>", name, executionType: kind, options };
  if (site) ref.line = site.line;
  return ref;
}

/**
 * Settle `ref.name` on the export name of `wrapper` in its module (once, at the first call: only then has the
 * module finished loading). A worker imports the module and takes that export, so an unexported remote function
 * could never run there: that is an error naming the file, the line and the fix.
 */
function settleName(ref: RemoteFunctionRef, wrapper: unknown): void {
  if (ref.exported) return;
  const exports = loadedExports(ref.module);
  if (!exports) {
    throw new TypeError(
      `remote function "${ref.name}" was called while ${ref.module} is still loading (a top-level await?): ` +
        "its export name is known once the module has loaded; call it from a route or after the import",
    );
  }
  const name = exportNameOf(exports, wrapper);
  if (!name) {
    const where = ref.line ? `${ref.module}:${ref.line}` : ref.module;
    throw new TypeError(
      `remote function "${ref.name}" (${where}) is not exported from its module, so a worker cannot import it: ` +
        `export it (export const ${ref.name.replace(/\W/g, "_")} = remote(…))`,
    );
  }
  ref.name = name;
  ref.exported = true;
}

/** The export name once the module has loaded (`fn.name` of a remote function), else its provisional name. */
function currentName(ref: RemoteFunctionRef, wrapper: unknown): string {
  if (ref.exported) return ref.name;
  const exports = loadedExports(ref.module);
  return (exports && exportNameOf(exports, wrapper)) || ref.name;
}

function baseRequest(ref: RemoteFunctionRef): Omit<FunctionRequest, "args"> {
  const req: Omit<FunctionRequest, "args"> = {
    module: ref.module,
    name: ref.name,
    executionType: ref.executionType,
  };
  if (ref.options.dependencies?.length) req.dependencies = ref.options.dependencies;
  if (ref.options.systemDependencies?.length) req.systemDependencies = ref.options.systemDependencies;
  return req;
}

function remoteFunction(ref: RemoteFunctionRef): AnyFn {
  const call = async (...args: unknown[]) => {
    settleName(ref, call);
    const req = { ...baseRequest(ref), args: checkArgs(args, ref.name) } as FunctionRequest;
    return unwrap(await currentTarget().call(ref, req, currentCallSignal()), ref.name);
  };
  Object.defineProperty(call, "name", { get: () => currentName(ref, call) });
  Object.defineProperty(call, "remote", { value: ref });
  return call;
}

/** The remote form of a generator function: calling it returns an async generator of the chunks. */
function streamingFunction(ref: RemoteFunctionRef): AnyFn {
  const call = (...args: unknown[]) =>
    streamCall(
      ref,
      () => {
        settleName(ref, call);
        return { ...baseRequest(ref), args: checkArgs(args, ref.name), stream: true } as FunctionRequest;
      },
      () => ref.name,
      currentCallSignal(),
    );
  Object.defineProperty(call, "name", { get: () => currentName(ref, call) });
  Object.defineProperty(call, "remote", { value: ref });
  return call;
}

/**
 * The caller's side of a streamed call. Nothing runs until the first `next()` (as with any generator); then the
 * call starts and each chunk is yielded as soon as it arrives, the rest queued here (the worker never waits for the
 * reader, as on Runpod). An error thrown by the remote generator is thrown after the chunks it yielded before it.
 * A reader that stops early (`break`, `return()`) or whose request is aborted (`outer`: the client went away)
 * cancels the call: the worker closes the generator, whose `finally` blocks run.
 */
async function* streamCall(
  ref: RemoteFunctionRef,
  build: () => FunctionRequest,
  label: () => string,
  outer: AbortSignal | undefined,
): AsyncGenerator<unknown, void, undefined> {
  const req = build();
  const chunks: unknown[] = [];
  let wake: (() => void) | undefined;
  let res: FunctionResponse | undefined;
  const stop = new AbortController();
  const signal = outer ? AbortSignal.any([outer, stop.signal]) : stop.signal;
  const settle = (r: FunctionResponse) => {
    res = r;
    wake?.();
  };
  currentTarget()
    .call(ref, req, signal, (chunk) => {
      chunks.push(chunk);
      wake?.();
    })
    .then(settle, (err) => settle({ success: false, error: toWireError(err) }));
  try {
    for (;;) {
      if (chunks.length) {
        yield chunks.shift();
        continue;
      }
      if (res) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    unwrap(res, label());
  } finally {
    if (!res) stop.abort(); // the reader left before the end: stop the remote generator
  }
}

/** The result of a response, or its error thrown as a `RemoteError`. */
function unwrap(res: FunctionResponse | undefined, name: string): unknown {
  if (!res) throw new RemoteError(name, { name: "Error", message: "the remote call ended without a response" });
  if (res.success) return res.result ?? null;
  throw new RemoteError(
    name,
    res.error ?? { name: "Error", message: "the remote call failed without an error message" },
  );
}

/** Static members stay what they were (they run here, as on any class); only instances live in a worker. */
function copyStatics(from: AnyFn, to: AnyFn): void {
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(from))) {
    if (key !== "prototype" && key !== "name" && key !== "length" && key !== "remote")
      Object.defineProperty(to, key, descriptor);
  }
}

function methodNames(cls: AnyFn): string[] {
  const names = new Set<string>();
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (d && typeof d.value === "function") names.add(key);
    }
  }
  return [...names];
}

function remoteClass(ref: RemoteFunctionRef, cls: AnyFn): AnyFn {
  const name = ref.name;
  const state = Symbol("remote instance");
  // Constructing is local and cheap (as in runpod/flash (Python)); the first method call builds the real instance.
  const Remote = class {
    [state]: { instanceId: string; constructorArgs: unknown[] };
    constructor(...args: unknown[]) {
      const id = crypto.randomUUID().replace(/-/g, "").slice(0, 8);
      this[state] = { instanceId: `${name}_${id}`, constructorArgs: checkArgs(args, `${name} constructor`) };
    }
  };
  for (const method of methodNames(cls)) {
    const build = (self: InstanceType<typeof Remote>, args: unknown[], stream: boolean): FunctionRequest => {
      const s = self[state];
      settleName(ref, Remote);
      const req: FunctionRequest = {
        ...baseRequest(ref),
        args: checkArgs(args, `${ref.name}.${method}`),
        instanceId: s.instanceId,
        methodName: method,
        constructorArgs: s.constructorArgs,
        createNewInstance: true,
      };
      if (stream) req.stream = true;
      return req;
    };
    if (isGeneratorFunction((cls.prototype as Record<string, unknown>)[method])) {
      Object.defineProperty(Remote.prototype, method, {
        configurable: true,
        writable: true,
        value: function (this: InstanceType<typeof Remote>, ...args: unknown[]) {
          return streamCall(
            ref,
            () => build(this, args, true),
            () => `${ref.name}.${method}`,
            currentCallSignal(),
          );
        },
      });
      continue;
    }
    Object.defineProperty(Remote.prototype, method, {
      configurable: true,
      writable: true,
      value: async function (this: InstanceType<typeof Remote>, ...args: unknown[]) {
        const req = build(this, args, false);
        return unwrap(await currentTarget().call(ref, req, currentCallSignal()), `${ref.name}.${method}`);
      },
    });
  }
  copyStatics(cls, Remote as unknown as AnyFn);
  Object.defineProperty(Remote, "name", { get: () => currentName(ref, Remote) });
  Object.defineProperty(Remote, "remote", { value: ref });
  return Remote as unknown as AnyFn;
}

function wrapMethod(
  config: ResourceConfig,
  method: AnyFn,
  options: RemoteOptions,
  site: CallSite | null,
  name: string,
  context: ClassMethodDecoratorContext,
): AnyFn {
  if (isWorkerMode()) {
    const entry = { value: method, kind: "function" as const, thisArg: undefined as unknown };
    // A static method keeps its class as `this`; an instance method runs without an instance (use @remote on the class for state).
    if (context.static)
      context.addInitializer(function (this: unknown) {
        entry.thisArg = this;
      });
    register(entry);
    return method;
  }
  const ref = newRef(config, site, name, "function", options);
  currentTarget().prepare?.(ref);
  return isGeneratorFunction(method) ? streamingFunction(ref) : remoteFunction(ref);
}

// Runpod polls GET /ping on every load-balanced worker for its health ("required for Runpod to monitor worker health":
// https://docs.runpod.io/serverless/load-balancing/build-a-worker); flash's worker program (worker/main.ts) takes
// shipped calls on /execute. A function on either path would shadow them.
const RESERVED_LB_PATHS = ["/ping", "/execute"];

function checkOptions(config: ResourceConfig, options: RemoteOptions | undefined, name: string): RemoteOptions {
  const where = `remote(${config.name}, ${name})`;
  const o = options ?? {};
  if (typeof o !== "object" || Array.isArray(o)) throw new TypeError(`${where}: options must be an object`);
  const known = ["dependencies", "systemDependencies", "method", "path"];
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option "${key}" (known: ${known.join(", ")})`);
  }
  for (const key of ["dependencies", "systemDependencies"] as const) {
    const list = o[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((d) => typeof d !== "string" || d.trim() === ""))) {
      throw new TypeError(`${where}: ${key} must be a list of non-empty strings`);
    }
  }
  if (config.isLoadBalancer) {
    if (!o.method || !o.path) {
      throw new TypeError(
        `${where}: ${config.kind} functions need { method, path } (e.g. { method: "POST", path: "/compute" })`,
      );
    }
    if (!(HTTP_METHODS as readonly string[]).includes(o.method)) {
      throw new TypeError(
        `${where}: method must be one of ${HTTP_METHODS.join(", ")} (got ${JSON.stringify(o.method)})`,
      );
    }
    if (typeof o.path !== "string" || !o.path.startsWith("/")) {
      throw new TypeError(`${where}: path must start with "/" (got ${JSON.stringify(o.path)})`);
    }
    if (RESERVED_LB_PATHS.includes(o.path.replace(/\/+$/, ""))) {
      throw new TypeError(
        `${where}: path ${o.path} is reserved on load-balanced endpoints (/ping is Runpod's health check, /execute carries flash's own calls); pick another path`,
      );
    }
    return { ...o };
  }
  if (o.method !== undefined || o.path !== undefined) {
    log.warn(`${where}: method/path only apply to load-balancer configs; ignored for ${config.kind}`);
    const { method: _m, path: _p, ...rest } = o;
    return rest;
  }
  return { ...o };
}
