/**
 * Runpod's side of `flash login` (runpod/flash `cli/commands/login.py`, `core/api/runpod.py`): two guest GraphQL
 * operations that need no API key, `createFlashAuthRequest` and `flashAuthRequestStatus(flashAuthRequestId)`, and the
 * console page `/flash/login?request=<id>` where the signed-in user approves or denies. An approved request hands out
 * the account's key once: the poll that receives it sees APPROVED, later polls CONSUMED without the key.
 * Registered before the guards, since guest calls and the console carry no key.
 */
import { Elysia } from "elysia";
import type { EmulatorContext } from "./context";

/** The states runpod/flash's login loop tells apart. */
type AuthStatus = "PENDING" | "APPROVED" | "DENIED" | "EXPIRED" | "CONSUMED";

interface AuthRequest {
  id: string;
  status: AuthStatus;
  expiresAt: number;
}

/** How long a request may wait for approval (runpod/flash polls up to 600 s by default). */
const REQUEST_TTL_MS = 10 * 60_000;

const GUEST_OPERATION = /^\s*(?:mutation|query)\b[^{]*\{\s*(createFlashAuthRequest|flashAuthRequestStatus)\b/;

const json = (body: unknown): Response =>
  new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });

const html = (body: string, status = 200): Response =>
  new Response(`<!doctype html><meta charset="utf-8"><title>flash login</title><body>${body}</body>`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The login plane. */
export function flashAuth(ctx: EmulatorContext) {
  const requests = new Map<string, AuthRequest>();
  const current = (id: string): AuthRequest | undefined => {
    const r = requests.get(id);
    if (r && r.status === "PENDING" && Date.now() > r.expiresAt) r.status = "EXPIRED";
    return r;
  };
  const view = (r: AuthRequest) => ({ id: r.id, status: r.status, expiresAt: new Date(r.expiresAt).toISOString() });

  /** A guest GraphQL call, or undefined when the body is any other operation (the GraphQL plane's, behind the key). */
  const guest = async (request: Request): Promise<Response | undefined> => {
    const body = (await request
      .clone()
      .json()
      .catch(() => undefined)) as { query?: unknown; variables?: Record<string, unknown> } | undefined;
    const op = typeof body?.query === "string" ? GUEST_OPERATION.exec(body.query)?.[1] : undefined;
    if (!op) return undefined;
    if (op === "createFlashAuthRequest") {
      const r: AuthRequest = { id: crypto.randomUUID(), status: "PENDING", expiresAt: Date.now() + REQUEST_TTL_MS };
      requests.set(r.id, r);
      return json({ data: { createFlashAuthRequest: view(r) } });
    }
    const id = body?.variables?.flashAuthRequestId;
    const r = typeof id === "string" ? current(id) : undefined;
    if (!r) return json({ data: { flashAuthRequestStatus: null }, errors: [{ message: "auth request not found" }] });
    if (r.status !== "APPROVED") return json({ data: { flashAuthRequestStatus: { ...view(r), apiKey: null } } });
    r.status = "CONSUMED";
    return json({ data: { flashAuthRequestStatus: { ...view(r), status: "APPROVED", apiKey: ctx.apiKey } } });
  };

  /** The console page: GET shows the request, POST (approve=1 or deny=1) decides it. */
  const consolePage = async (request: Request, url: URL): Promise<Response> => {
    const id = url.searchParams.get("request") ?? "";
    const r = current(id);
    if (!r) return html("<p>No such login request.</p>", 404);
    if (request.method === "POST") {
      const form = new URLSearchParams(await request.text());
      if (r.status === "PENDING") r.status = form.has("deny") ? "DENIED" : "APPROVED";
      return html(`<p>Request ${escapeHtml(r.id)}: ${r.status.toLowerCase()}. You can close this page.</p>`);
    }
    const actions =
      r.status === "PENDING"
        ? `<form method="post"><button name="approve" value="1">Approve</button> <button name="deny" value="1">Deny</button></form>`
        : `<p>Status: ${r.status.toLowerCase()}</p>`;
    return html(`<h1>Authorize flash</h1><p>Give flash the API key of this emulator?</p>${actions}`);
  };

  return new Elysia().onRequest(async ({ request }) => {
    const url = new URL(request.url);
    if (url.pathname === "/flash/login") return consolePage(request, url);
    if (url.pathname === "/graphql" && request.method === "POST") return guest(request);
    return undefined;
  });
}
