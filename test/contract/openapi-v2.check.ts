/**
 * Checks one REST v2 exchange (a request flash sent to the emulator and the emulator's reply) against Runpod's
 * published document (core/emulator/openapi-v2.json): the operation exists, the request body conforms to its
 * requestBody schema, the status is one the operation documents, the reply's content type and body conform to the
 * response the document gives for that status, and the rate-limit headers the document promises are there.
 */
import { openapiV2, validateAgainst } from "../../core/emulator/openapi-v2";
import type { RestV2Exchange } from "../../core/emulator/planes/rest-v2";

type Json = Record<string, any>;

/** `$ref` → the object it names (`#/components/responses/NotFoundError`). */
function deref(node: Json): Json {
  if (typeof node?.$ref !== "string") return node;
  let out: any = openapiV2;
  for (const part of node.$ref.replace(/^#\//, "").split("/")) out = out[part];
  return out;
}

/** The document's path template a concrete path matches (`/v2/serverless/abc` → `/v2/serverless/{id}`). */
function templateOf(path: string): string | undefined {
  const bare = path.split("?")[0]!;
  const candidates = Object.keys(openapiV2.paths).filter((t) => {
    const re = new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    return re.test(bare);
  });
  // A literal segment beats a parameter (`/v2/registries/delegations` over `/v2/registries/{id}`).
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

/** The component schema a media type names (every body in the document is a `$ref`). */
function schemaName(media: Json | undefined): string | undefined {
  const ref = media?.schema?.$ref as string | undefined;
  return ref?.split("/").pop();
}

/** The operation an exchange is (`createEndpoint`, …), or undefined when the document has none. */
export function operationOf(x: Pick<RestV2Exchange, "method" | "path">): string | undefined {
  const t = templateOf(x.path);
  return t ? openapiV2.paths[t]?.[x.method.toLowerCase()]?.operationId : undefined;
}

/** What is wrong with an exchange, by the document; empty when it conforms. */
export function checkExchange(x: RestV2Exchange): string[] {
  const where = `${x.method} ${x.path} → ${x.status}`;
  const t = templateOf(x.path);
  const op = t ? (openapiV2.paths[t]?.[x.method.toLowerCase()] as Json | undefined) : undefined;
  if (!op) return [`${where}: the document has no such operation`];
  const problems: string[] = [];
  const requestSchema = schemaName(op.requestBody?.content?.["application/json"]);
  // A request the emulator refused for its body is one flash's tests send on purpose: it need not conform.
  if (requestSchema && x.status < 400) {
    for (const e of validateAgainst(requestSchema, x.requestBody)) problems.push(`${where}: request ${e}`);
  }
  const documented = op.responses[String(x.status)] ?? op.responses.default;
  if (!documented) return [...problems, `${where}: status ${x.status} is not documented for ${op.operationId}`];
  if (!op.responses[String(x.status)] && x.status < 400) {
    problems.push(`${where}: success status ${x.status} is not documented for ${op.operationId}`);
  }
  const response = deref(documented);
  const content = response.content as Json | undefined;
  if (!content) {
    if (x.responseBody !== undefined) problems.push(`${where}: the document gives no body, the emulator sent one`);
  } else {
    const type = (x.contentType ?? "").split(";")[0]!.trim();
    const media = content[type];
    if (!media) problems.push(`${where}: content type ${type || "(none)"}, the document says ${Object.keys(content)}`);
    const name = schemaName(media);
    if (name) for (const e of validateAgainst(name, x.responseBody)) problems.push(`${where}: response ${e}`);
  }
  for (const h of Object.keys(deref(documented).headers ?? {})) {
    // RateLimit headers are "omitted for rate-limit-exempt callers"; the emulator always sends them, Allow only on 405.
    if (h.startsWith("RateLimit") && !x.headers[h.toLowerCase()]) problems.push(`${where}: no ${h} header`);
    if (h === "Retry-After" && !x.headers["retry-after"]) problems.push(`${where}: no Retry-After header`);
  }
  return problems;
}

/** The schema names of the 2xx reply of an exchange (for the stripped-field check). */
export function responseSchemaOf(x: RestV2Exchange): string | undefined {
  const t = templateOf(x.path);
  const op = t ? (openapiV2.paths[t]?.[x.method.toLowerCase()] as Json | undefined) : undefined;
  const documented = op?.responses[String(x.status)];
  if (!documented) return undefined;
  const content = deref(documented).content as Json | undefined;
  return content ? schemaName(content["application/json"]) : undefined;
}

/** Every property a schema requires at its top level (through `allOf` and `$ref`). */
export function requiredOf(schema: string): string[] {
  const out = new Set<string>();
  const walk = (node: Json | undefined) => {
    if (!node) return;
    const n = deref(node);
    for (const r of n.required ?? []) out.add(r);
    for (const sub of n.allOf ?? []) walk(sub);
  };
  walk(openapiV2.components.schemas[schema]);
  return [...out];
}
