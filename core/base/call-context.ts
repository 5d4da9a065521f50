/**
 * The context of the request being answered, for code that runs on its behalf: today, the request's abort signal,
 * so a remote call started by a route is cancelled when the client goes away. Kept on `globalThis`, so every copy
 * of flash's modules in a process (an example importing flash from disk inside the binary) sees the same store.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const KEY = Symbol.for("flash.call-context");
const store: AsyncLocalStorage<AbortSignal> = ((globalThis as Record<symbol, unknown>)[KEY] ??=
  new AsyncLocalStorage<AbortSignal>()) as AsyncLocalStorage<AbortSignal>;

/** Run `fn` with `signal` as the signal of every remote call it (or anything it awaits) makes. */
export function withCallSignal<T>(signal: AbortSignal, fn: () => T): T {
  return store.run(signal, fn);
}

/** The abort signal of the request being answered, if any. */
export function currentCallSignal(): AbortSignal | undefined {
  return store.getStore();
}
