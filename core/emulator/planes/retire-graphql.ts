/**
 * The emulator without Runpod's GraphQL API (`flash emulator --retire-graphql`): runpod/docs release notes
 * (August 2026) say GraphQL is "retired in early 2027" and REST v2 replaces it. REST v2 (api-reference-v2/openapi.json
 * at runpod/docs a900806) has no surface for the Flash app plane (apps, environments, builds, artifact upload), so
 * only those operations stay: the root fields flash-apps.ts adds to the schema, and `myself { flashApps }`.
 */
import { Elysia } from "elysia";
import { Kind, parse, type DocumentNode, type SelectionSetNode } from "graphql";
import { APPS_GRAPHQL } from "../flash-apps";

/** Root fields (and `myself` fields) the Flash app plane defines. */
function appPlaneFields(): { root: Set<string>; myself: Set<string> } {
  const root = new Set<string>();
  const myself = new Set<string>();
  for (const def of parse(APPS_GRAPHQL).definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const names = (def.fields ?? []).map((f) => f.name.value);
    if (def.name.value === "User") for (const n of names) myself.add(n);
    else if (def.name.value === "Query" || def.name.value === "Mutation") for (const n of names) root.add(n);
  }
  return { root, myself };
}

let allowed: ReturnType<typeof appPlaneFields> | undefined;

/** Field names selected directly in a selection set (fragments spread in are not followed: flash sends none). */
function fieldsOf(set: SelectionSetNode | undefined): { name: string; set?: SelectionSetNode }[] {
  return (set?.selections ?? []).flatMap((s) =>
    s.kind === Kind.FIELD ? [{ name: s.name.value, set: s.selectionSet }] : [],
  );
}

/**
 * Why a GraphQL document is refused once GraphQL is retired, or undefined when it only touches the Flash app plane.
 * A document that does not parse is left to the GraphQL executor (it answers with the parse error).
 */
function graphqlRetired(query: string): string | undefined {
  allowed ??= appPlaneFields();
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch {
    return undefined;
  }
  const refused: string[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const f of fieldsOf(def.selectionSet)) {
      if (f.name.startsWith("__") || allowed.root.has(f.name)) continue;
      if (f.name === "myself") {
        for (const m of fieldsOf(f.set)) {
          if (!allowed.myself.has(m.name) && !m.name.startsWith("__")) refused.push(`myself.${m.name}`);
        }
        continue;
      }
      refused.push(f.name);
    }
  }
  if (!refused.length) return undefined;
  return (
    `the GraphQL API is retired (${refused.join(", ")}): use REST v2 at /v2 ` +
    "(serverless, templates, network-volumes, catalog); GraphQL remains only for Flash apps"
  );
}

/** The plane that refuses, before the GraphQL plane sees them, the operations REST v2 has taken over (410). */
export function retiredGraphql() {
  return new Elysia().onRequest(async ({ request }) => {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/graphql") return;
    let query: unknown;
    try {
      query = ((await request.clone().json()) as { query?: unknown })?.query;
    } catch {
      return; // the GraphQL plane answers a malformed body
    }
    const retired = typeof query === "string" ? graphqlRetired(query) : undefined;
    if (!retired) return;
    return new Response(JSON.stringify({ errors: [{ message: retired, extensions: { code: "RETIRED" } }] }), {
      status: 410,
      headers: { "content-type": "application/json" },
    });
  });
}
