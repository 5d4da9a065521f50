/**
 * `flash login`'s device flow, as runpod/flash implements it (`cli/commands/login.py`): a guest GraphQL
 * `createFlashAuthRequest`, the user approves `<console>/flash/login?request=<id>` in a browser, and the CLI polls
 * `flashAuthRequestStatus` until it carries the minted key (APPROVED or CONSUMED), is refused (DENIED, EXPIRED,
 * CONSUMED without a key) or the deadline passes (the request's `expiresAt`, or the timeout if sooner).
 */

/** How runpod/flash's login behaves by default: a poll every 2 s, for up to 600 s. */
export const LOGIN_DEFAULTS = { intervalMs: 2000, timeoutMs: 600_000 };

/** One `flash login` run. */
export interface LoginOptions {
  /** The GraphQL URL (`${RUNPOD_API_BASE_URL}/graphql`). */
  graphqlUrl: string;
  /** The console's base URL the approval page lives under. */
  consoleUrl: string;
  /** Called once with the URL the user must open. */
  onUrl: (url: string) => void;
  intervalMs?: number;
  timeoutMs?: number;
}

interface AuthRequestView {
  id?: string;
  status?: string;
  expiresAt?: string | null;
  apiKey?: string | null;
}

/** A guest GraphQL call: no Authorization header, a 30 s bound per request. */
async function guestGraphql(url: string, query: string, variables?: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: { data?: Record<string, unknown>; errors?: { message?: string }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered HTTP ${res.status} with a body that is not JSON`);
  }
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message ?? "error").join("; "));
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return body.data;
}

const CREATE = "mutation createFlashAuthRequest { createFlashAuthRequest { id status expiresAt } }";
const STATUS =
  "query flashAuthRequestStatus($flashAuthRequestId: String!) { flashAuthRequestStatus(flashAuthRequestId: $flashAuthRequestId) { id status expiresAt apiKey } }";

/** Run the device flow; resolves to the approved API key, rejects with a one-line reason. */
export async function deviceLogin(opts: LoginOptions): Promise<string> {
  const intervalMs = opts.intervalMs ?? LOGIN_DEFAULTS.intervalMs;
  const created = ((await guestGraphql(opts.graphqlUrl, CREATE)) as { createFlashAuthRequest?: AuthRequestView })
    .createFlashAuthRequest;
  if (!created?.id) throw new Error("the login request could not be created");
  opts.onUrl(`${opts.consoleUrl.replace(/\/+$/, "")}/flash/login?request=${encodeURIComponent(created.id)}`);
  let deadline = Date.now() + (opts.timeoutMs ?? LOGIN_DEFAULTS.timeoutMs);
  const expires = created.expiresAt ? Date.parse(created.expiresAt) : Number.NaN;
  if (Number.isFinite(expires) && expires < deadline) deadline = expires;
  for (;;) {
    const data = (await guestGraphql(opts.graphqlUrl, STATUS, { flashAuthRequestId: created.id })) as {
      flashAuthRequestStatus?: AuthRequestView;
    };
    const { status, apiKey } = data.flashAuthRequestStatus ?? {};
    if (apiKey && (status === "APPROVED" || status === "CONSUMED")) return apiKey;
    if (status === "DENIED" || status === "EXPIRED" || status === "CONSUMED") {
      throw new Error(`login failed: ${status.toLowerCase()}`);
    }
    if (Date.now() >= deadline) throw new Error("login timed out: the request was not approved in time");
    await Bun.sleep(intervalMs);
  }
}
