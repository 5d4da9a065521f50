// The OpenAPI document of the real workspace, as `/docs/json` serves it, is valid for the tools users point at it:
// Redocly's linter (recommended rules) finds no error, and numeric JSON body fields are numbers, not strings.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../../core/app/app";
import { startServer, type FlashServer } from "../../core/dev/server";
import { REPO } from "../helpers/workspace";

let server: FlashServer;
let doc: any;
const temp = mkdtempSync(join(tmpdir(), "flash-openapi-"));
beforeAll(async () => {
  server = startServer(await buildApp({ root: REPO }), "127.0.0.1", 0);
  doc = await (await fetch(`${server.url}/docs/json`)).json();
});
afterAll(async () => {
  await server.stop();
  rmSync(temp, { recursive: true, force: true });
});

test("Redocly's linter reports no error (no `error` keyword in schemas, servers set)", () => {
  const file = join(temp, "openapi.json");
  writeFileSync(file, JSON.stringify(doc));
  const bin = join(REPO, "node_modules/@redocly/cli/bin/cli.js");
  const lint = Bun.spawnSync([process.execPath, bin, "lint", file, "--format=summary"], {
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
  });
  const out = lint.stdout.toString() + lint.stderr.toString();
  expect(out).not.toMatch(/^error\s/m);
  expect(out).toContain("Your API description is valid");
  expect(lint.exitCode).toBe(0);
  expect(doc.servers.length).toBeGreaterThan(0);
  expect(JSON.stringify(doc)).not.toContain('"error":"'); // no custom validation message leaks as a keyword
}, 60_000);

test("integer and number body fields are JSON numbers only (no string alternative), and bodies are JSON only", () => {
  const strings: string[] = [];
  const walk = (node: any, where: string) => {
    if (!node || typeof node !== "object") return;
    for (const alt of node.anyOf ?? []) {
      if (alt?.type === "string" && (alt.format === "integer" || alt.format === "numeric")) strings.push(where);
    }
    for (const [key, value] of Object.entries(node)) walk(value, `${where}/${key}`);
  };
  walk(doc.paths, "");
  expect(strings).toEqual([]);
  const compute = doc.paths["/03_advanced_workers/05_load_balancer/gpu/compute"].post.requestBody.content;
  expect(Object.keys(compute)).toEqual(["application/json"]);
  expect(compute["application/json"].schema.properties.numbers).toMatchObject({
    type: "array",
    maxItems: 1_000_000,
    items: { type: "integer" },
  });
});

test("an upload route (a t.File field) is documented as multipart/form-data only, with a binary file field", () => {
  const upload = doc.paths["/05_data_workflows/02_document_ocr/documents"].post.requestBody.content;
  expect(Object.keys(upload)).toEqual(["multipart/form-data"]);
  expect(upload["multipart/form-data"].schema.properties.file).toEqual({
    description: "A PNG or JPEG of the document, at most 5 MB",
    type: "string",
    format: "binary",
  });
  expect(upload["multipart/form-data"].schema.required).toEqual(["file"]);
});
