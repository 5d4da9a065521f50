/**
 * Runpod's published REST v2 contract (runpod/docs `api-reference-v2/openapi.json`, OpenAPI 3.1, vendored beside this file with its
 * commit and date in openapi-v2.source.json) as a JSON Schema 2020-12 validator. The emulator checks request bodies
 * with it, so unknown fields, the `oneOf` scaling union, `LOAD_BALANCER` requiring `REQUEST_COUNT` and the rest of
 * the document's rules are the document's own; the contract test checks flash's requests and the emulator's
 * replies with it. A newer document is one file to replace.
 *
 * @cfworker/json-schema, not ajv: ajv 8.20 drops the properties `allOf` evaluated when a sibling `if` fails, so it
 * rejects every valid queue-endpoint create (`CreateEndpointRequest` has a top-level `if` for `LOAD_BALANCER`).
 */
import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import document from "./openapi-v2.json" with { type: "json" };

const DOCUMENT_ID = "https://api.runpod.io/openapi-v2.json";

/** The document itself (paths, operations, components). */
export const openapiV2 = document as unknown as {
  info: { version: string };
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any> };
};

/**
 * `requestUrls` are documented as `format: uri` yet hold templates (`…/status/{job_id}` in the document's own
 * examples), which RFC 3986 forbids: they are checked as the URI templates they are.
 */
function asTemplates(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asTemplates);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === "format" && v === "uri" ? "uri-template" : asTemplates(v);
  return out;
}

// Only the schemas are registered: the validator indexes every `id` it walks past, and the response examples
// elsewhere in the document hold objects with equal `id`s.
const SCHEMAS = { components: { schemas: asTemplates(openapiV2.components.schemas) } } as unknown as Schema;
const validators = new Map<string, Validator>();

/**
 * Check a value against one of the document's component schemas (`CreateEndpointRequest`, `Endpoint`, …). Returns
 * the failures as Runpod's `errors[]` lists them (`$.gpu.count: …`), empty when the value conforms.
 */
export function validateAgainst(schema: string, value: unknown): string[] {
  if (!openapiV2.components.schemas[schema]) throw new Error(`the REST v2 document has no schema ${schema}`);
  let v = validators.get(schema);
  if (!v) {
    v = new Validator({ $ref: `${DOCUMENT_ID}#/components/schemas/${schema}` }, "2020-12", false);
    v.addSchema(SCHEMAS, DOCUMENT_ID);
    validators.set(schema, v);
  }
  const result = v.validate(value);
  return result.valid ? [] : describe(result.errors, declared(schema));
}

const declaredNames = new Map<string, Set<string>>();

/** Every property name the schema (and what it references) declares anywhere: the fields it knows. */
function declared(schema: string): Set<string> {
  let names = declaredNames.get(schema);
  if (names) return names;
  names = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (node: unknown): void => {
    if (!node || typeof node !== "object" || seen.has(node)) return;
    seen.add(node);
    const n = node as Record<string, unknown>;
    if (n.properties && typeof n.properties === "object") for (const k of Object.keys(n.properties)) names!.add(k);
    if (typeof n.$ref === "string") walk(openapiV2.components.schemas[n.$ref.split("/").pop()!]);
    for (const v of Object.values(n)) walk(v);
  };
  walk(openapiV2.components.schemas[schema]);
  declaredNames.set(schema, names);
  return names;
}

/** Keywords whose failure only says that a subschema below failed (the failure below says what). */
const WRAPPERS = new Set(["$ref", "allOf", "anyOf", "if", "properties", "items", "prefixItems", "false", "then"]);
/**
 * A failing subschema drops what it evaluated (JSON Schema 2020-12), so next to a real failure `unevaluatedProperties`
 * also names known fields: only fields the schema declares nowhere are reported as unknown.
 */
const UNKNOWN = new Set(["unevaluatedProperties", "additionalProperties"]);

/**
 * The `oneOf` branches a value did not pick: those whose `type` discriminator failed (a `QUEUE_DELAY` scaling is not
 * also told it lacks `requestCount`).
 */
function unselected(errors: OutputUnit[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const m = /^(.*\/oneOf\/\d+)\/.*properties\/type\/(enum|const)$/.exec(e.keywordLocation);
    if (m) out.push(`${m[1]}/`);
  }
  return out;
}

function describe(all: OutputUnit[], known: Set<string>): string[] {
  const skipped = unselected(all);
  const errors = all.filter((e) => !skipped.some((p) => e.keywordLocation.startsWith(p)));
  const shown: string[] = [];
  for (const e of errors) {
    if (WRAPPERS.has(e.keyword) || e.keyword === "oneOf") continue;
    if (UNKNOWN.has(e.keyword)) {
      const name = /Property "(.*)" does not match/.exec(e.error)?.[1];
      // `additionalProperties` is decided locally; only `unevaluatedProperties` may name a known field here.
      if (name === undefined || (e.keyword === "unevaluatedProperties" && known.has(name))) continue;
      shown.push(`${pathOf(e.instanceLocation)}: additional properties '${name}' not allowed`);
    } else shown.push(`${pathOf(e.instanceLocation)}: ${e.error}`);
  }
  // Never call an invalid value valid: when every failure was filtered, show the union's own.
  if (!shown.length) {
    for (const e of errors) if (e.keyword === "oneOf") shown.push(`${pathOf(e.instanceLocation)}: ${e.error}`);
  }
  if (!shown.length) shown.push(...all.map((e) => `${pathOf(e.instanceLocation)}: ${e.error}`));
  return [...new Set(shown)];
}

/** `#/cpu/0/vcpuCount` → `$.cpu[0].vcpuCount`. */
function pathOf(location: string): string {
  return location
    .replace(/^#/, "$")
    .split("/")
    .map((p, i) => (i === 0 ? p : /^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join("");
}
