// Embedded into the binary by `bun build --compile`, so /docs renders with no network.
import swaggerBundlePath from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import swaggerCssPath from "swagger-ui-dist/swagger-ui.css" with { type: "file" };

/** The OpenAPI document type we build (a plain JSON object). */
export type OpenAPIDocument = Record<string, any>;

/** One mounted router's contribution to the OpenAPI document. */
export interface DocsSource {
  app: unknown;
  tag: string;
}

const INFO = {
  title: "Flash Examples",
  description: "Every flash example, discovered and served by one app.",
  version: "0.1.0",
};

/**
 * Build one OpenAPI document from every mounted router, tagging each operation with its example's tag.
 * The docs plugin is imported here, on the first request for the document, not at start-up (it costs ~25 ms).
 */
export async function buildOpenAPI(
  sources: DocsSource[],
  extraPaths: Record<string, any> = {},
): Promise<OpenAPIDocument> {
  const { toOpenAPISchema } = await import("@elysiajs/openapi");
  const paths: Record<string, any> = {};
  const schemas: Record<string, any> = {};
  const tags: { name: string }[] = [];
  for (const { app, tag } of sources) {
    const part = toOpenAPISchema(app as any) as {
      paths: Record<string, any>;
      components?: { schemas?: Record<string, any> };
    };
    if (!tags.some((t) => t.name === tag)) tags.push({ name: tag });
    for (const [path, ops] of Object.entries(part.paths ?? {})) {
      const merged = (paths[path] ??= {});
      for (const [method, op] of Object.entries(ops as Record<string, any>)) {
        const own: string[] = Array.isArray(op.tags) ? op.tags.filter((t: string) => t !== tag) : [];
        merged[method] = { ...op, tags: [tag, ...own] };
      }
    }
    Object.assign(schemas, part.components?.schemas ?? {});
  }
  tags.push({ name: "Info" });
  const doc = {
    openapi: "3.1.0",
    info: INFO,
    // Relative to where the document is served: clients and gateways call the server that served it.
    servers: [{ url: "/", description: "This flash server" }],
    security: [], // a dev server: no operation needs credentials
    tags,
    paths: { ...paths, ...extraPaths },
    components: { schemas },
  };
  // A copy: the plugin hands back the routes' live schemas, whose `error` messages validation still needs.
  return cleanSchemas(JSON.parse(JSON.stringify(doc))) as OpenAPIDocument;
}

/** Keys whose values are data (examples, defaults), not schemas: never cleaned. */
const DATA_KEYS = new Set(["example", "examples", "default", "const", "enum"]);

/**
 * Make the document valid for linters and client generators: drop TypeBox's `error` option (a custom validation
 * message, not an OpenAPI keyword) from every schema, turn 3.0's `nullable` into a null type, and list JSON alone
 * where a body is JSON, since object routes refuse forms (request-guards.ts).
 */
function cleanSchemas(node: unknown): unknown {
  if (Array.isArray(node)) {
    for (const item of node) cleanSchemas(item);
    return node;
  }
  if (!node || typeof node !== "object") return node;
  const obj = node as Record<string, unknown>;
  if ("error" in obj && (obj.error === null || typeof obj.error !== "object")) delete obj.error;
  // OpenAPI 3.1 has no `nullable` (3.0's keyword): a null type says it.
  if (typeof obj.nullable === "boolean") {
    if (obj.nullable && typeof obj.type === "string") obj.type = [obj.type, "null"];
    else if (obj.nullable && Array.isArray(obj.anyOf) && !obj.anyOf.some((a) => a?.type === "null")) {
      obj.anyOf.push({ type: "null" });
    }
    delete obj.nullable;
  }
  const jsonBody = obj["application/json"] as { schema?: unknown } | undefined;
  if (jsonBody && typeof jsonBody === "object" && "schema" in jsonBody) {
    if (hasBinary(jsonBody.schema)) {
      // A body with a file (t.File: a binary string) is an upload: multipart/form-data is its only form.
      obj["multipart/form-data"] = { schema: withoutFileDefaults(jsonBody.schema) };
      delete obj["application/json"];
    } else delete obj["multipart/form-data"];
    delete obj["application/x-www-form-urlencoded"];
  }
  for (const [key, value] of Object.entries(obj)) if (!DATA_KEYS.has(key)) cleanSchemas(value);
  return node;
}

/** Whether a schema has a binary string (a file field) among its properties, at any depth. */
function hasBinary(schema: unknown): boolean {
  if (!schema || typeof schema !== "object") return false;
  const node = schema as Record<string, unknown>;
  if (node.type === "string" && node.format === "binary") return true;
  const props = node.properties as Record<string, unknown> | undefined;
  return !!props && Object.values(props).some(hasBinary);
}

/** A copy of a multipart schema without the `default: "File"` TypeBox gives file fields (not a valid default). */
function withoutFileDefaults(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema), (key, value) =>
    value && typeof value === "object" && value.format === "binary" && value.default === "File"
      ? (({ default: _d, ...rest }) => rest)(value)
      : value,
  );
}

/** The Swagger UI page, loading its script and stylesheet from /docs/assets (never a CDN). */
export function docsPage(specUrl = "/docs/json"): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${INFO.title} — API docs</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.onload = () => {
      window.ui = SwaggerUIBundle({ url: ${JSON.stringify(specUrl)}, dom_id: "#swagger-ui", deepLinking: true, docExpansion: "list" });
    };
  </script>
</body>
</html>`;
}

const ASSETS: Record<string, { path: string; type: string }> = {
  "swagger-ui-bundle.js": { path: swaggerBundlePath as unknown as string, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: swaggerCssPath as unknown as string, type: "text/css; charset=utf-8" },
};

/** Serve an embedded docs asset by file name, or null when there is no such asset. */
export function docsAsset(name: string): Response | null {
  const asset = ASSETS[name];
  if (!asset) return null;
  return new Response(Bun.file(asset.path), {
    headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
  });
}
