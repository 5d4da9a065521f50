/** Naming rules shared by discovery, the unified app, the home page and `flash init`. */

/** Matches a category or example folder name: two digits, an underscore, then the rest. */
export const NUMBERED = /^[0-9]{2}_[^/\\]+$/;

/** The example folders of a workspace, relative to its root: `NN_category/NN_example` (also its `workspaces` glob). */
export const EXAMPLE_GLOB = "[0-9][0-9]_*/[0-9][0-9]_*";

/** The package name of an example: `@flash-examples/<example>`, or `…/<category>-<example>` when that is taken. */
export function examplePackageName(category: string, example: string, taken: Set<string>): string {
  const plain = `@flash-examples/${example}`;
  return taken.has(plain) ? `@flash-examples/${category}-${example}` : plain;
}

/** Matches a name that `flash init` accepts: `NN_snake_case`. */
export const SNAKE_NUMBERED = /^[0-9]{2}_[a-z0-9]+(?:_[a-z0-9]+)*$/;

/**
 * Python's `str.title()`: the first letter after any non-letter is upper-cased, the rest lower-cased,
 * so titles match the tags of runpod/flash (Python) ("02 ml inference" → "02 Ml Inference", "3d" → "3D").
 */
export function pyTitle(text: string): string {
  let out = "";
  let prevIsLetter = false;
  for (const ch of text) {
    const isLetter = ch.toLowerCase() !== ch.toUpperCase();
    out += isLetter ? (prevIsLetter ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    prevIsLetter = isLetter;
  }
  return out;
}

/** Display title of a folder name: underscores become spaces, then Python-style title case. */
export function displayTitle(folder: string): string {
  return pyTitle(folder.replaceAll("_", " "));
}

/** OpenAPI tag of an example: "{Category Title} > {Example Title}". */
export function exampleTag(category: string, example: string): string {
  return `${displayTitle(category)} > ${displayTitle(example)}`;
}

/** URL prefix of a router: `/{category}/{example}/{type}`, or `/{category}/{example}` for `api_router`. */
export function routerPrefix(category: string, example: string, type: string): string {
  return type === "api" ? `/${category}/${example}` : `/${category}/${example}/${type}`;
}

/** Link into the docs UI for a tag (Swagger UI deep link). */
export function docsLink(tag: string): string {
  return `/docs#/${encodeURIComponent(tag)}`;
}

/** Resource-name prefix `{cc}_{ee}` built from a category and example folder (`01_getting_started`, `02_x` → `01_02`). */
export function resourcePrefix(category: string, example: string): string {
  return `${category.slice(0, 2)}_${example.slice(0, 2)}`;
}
