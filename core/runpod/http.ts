import { logger } from "../base/log";
/**
 * HTTP to Runpod with the behaviour every call needs: bearer auth, bounded jittered retries on 429/5xx/network
 * errors, a clear error on 401, and error messages that never contain the API key.
 */

const hlog = logger("runpod");

/** An HTTP call to Runpod failed (after retries); `status` is 0 for network errors. Never contains the key. */
export class RunpodApiError extends Error {
  override name = "RunpodApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly url: string,
  ) {
    super(message);
  }
}

/** The API key was refused (401). */
class RunpodAuthError extends RunpodApiError {
  override name = "RunpodAuthError";
}

/** Retry policy of one client. */
export interface RetryPolicy {
  /** Attempts in all, including the first (default 5). */
  attempts?: number;
  /** First backoff, ms (default 200); doubles each time, ±50 % jitter. */
  baseDelayMs?: number;
  /** Longest backoff, ms (default 5000). */
  maxDelayMs?: number;
}

/** Options of one request. */
export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Per-attempt timeout, ms (default 30000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Retry this request on 429/5xx/network errors (default true: idempotent reads). `false`: send once. `"unsent"`:
   * for non-idempotent calls (a job submission): retry only when the request provably did not reach Runpod or was
   * refused without effect (connection refused, host not found, 429), never after a timeout or a 5xx.
   */
  retry?: boolean | "unsent";
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Statuses (besides 2xx) whose reply is returned rather than thrown: GraphQL `errors` may come with a 4xx. */
  accept?: (status: number) => boolean;
}

/** Mask every occurrence of `secret` in `text` (and in its URL-encoded form). */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join("***").split(encodeURIComponent(secret)).join("***");
}

function retryable(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599);
}

/** Backoff before attempt `n` (1-based retry count): exponential with ±50 % jitter, capped. */
export function backoff(n: number, policy: RetryPolicy = {}): number {
  const base = policy.baseDelayMs ?? 200;
  const cap = policy.maxDelayMs ?? 5000;
  const raw = Math.min(cap, base * 2 ** (n - 1));
  return Math.round(raw * (0.5 + Math.random()));
}

/** A small JSON-over-HTTP client bound to one API key. */
export class RunpodHttp {
  constructor(
    private readonly apiKey: string,
    private readonly policy: RetryPolicy = {},
  ) {}

  /** Send a request and parse the JSON reply; throws `RunpodApiError` (or `RunpodAuthError` on 401). */
  async json<T = any>(url: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(url, options);
    const text = await res.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RunpodApiError(
        `Runpod answered ${res.status} with a body that is not JSON: ${this.clean(text.slice(0, 200))}`,
        res.status,
        this.clean(url),
      );
    }
  }

  /** Send a request with retries; returns the response of the first attempt that is not retryable. */
  async send(url: string, options: RequestOptions = {}): Promise<Response> {
    const attempts = options.retry === false ? 1 : Math.max(1, this.policy.attempts ?? 5);
    const unsentOnly = options.retry === "unsent";
    const shown = this.clean(url.split("?")[0]!);
    let lastError = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (options.signal?.aborted) throw abortError(options.signal);
      let res: Response | undefined;
      try {
        res = await fetch(url, {
          method: options.method ?? (options.body === undefined ? "GET" : "POST"),
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            "content-type": "application/json",
            "user-agent": "flash (bun)",
            ...options.headers,
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: options.signal
            ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)])
            : AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (err) {
        if (options.signal?.aborted) throw abortError(options.signal);
        lastError = this.clean(String((err as Error)?.message ?? err));
        const code = (err as { code?: string })?.code ?? "";
        if (unsentOnly && !["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"].includes(code)) {
          throw new RunpodApiError(
            `request to ${shown} failed and may have reached Runpod, so it is not sent again: ${lastError}`,
            0,
            shown,
          );
        }
      }
      if (res) {
        if (res.status === 401) {
          await res.body?.cancel();
          throw new RunpodAuthError(
            `Runpod refused the API key (401 Unauthorized) for ${shown}. Check RUNPOD_API_KEY (create one at https://console.runpod.io/user/settings → API Keys).`,
            401,
            shown,
          );
        }
        if (!retryable(res.status) || (unsentOnly && res.status !== 429)) {
          if (res.ok || options.accept?.(res.status)) return res;
          const text = this.clean((await res.text()).slice(0, 300));
          throw new RunpodApiError(
            `Runpod answered ${res.status} for ${options.method ?? "GET"} ${shown}: ${text}`,
            res.status,
            shown,
          );
        }
        lastError = `HTTP ${res.status}`;
        const retryAfter = Number(res.headers.get("retry-after"));
        await res.body?.cancel();
        if (attempt < attempts) {
          const wait =
            Number.isFinite(retryAfter) && retryAfter > 0
              ? Math.min(retryAfter * 1000, this.policy.maxDelayMs ?? 5000)
              : backoff(attempt, this.policy);
          hlog.debug(`${shown}: ${lastError}; retry ${attempt}/${attempts - 1} in ${wait} ms`);
          await sleep(wait, options.signal);
          continue;
        }
        throw new RunpodApiError(
          `Runpod answered ${res.status} for ${shown} after ${attempts} attempts`,
          res.status,
          shown,
        );
      }
      if (attempt < attempts) {
        const wait = backoff(attempt, this.policy);
        hlog.debug(`${shown}: ${lastError}; retry ${attempt}/${attempts - 1} in ${wait} ms`);
        await sleep(wait, options.signal);
      }
    }
    throw new RunpodApiError(`cannot reach Runpod at ${shown} after ${attempts} attempts: ${lastError}`, 0, shown);
  }

  /** Redact the key from any text this client shows. */
  clean(text: string): string {
    return redact(text, this.apiKey);
  }
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error("the call was aborted");
  e.name = "AbortError";
  return e;
}

/** Sleep that ends early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return Bun.sleep(ms);
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
