import type { LoadError } from "../workspace/modules";
import { docsLink } from "../workspace/names";

/** What the home page shows of one example. */
interface HomeExample {
  title: string;
  tag: string;
  prefix: string;
  types: string[];
  routes: number;
}

/** What the home page shows of one category. */
export interface HomeCategory {
  title: string;
  examples: HomeExample[];
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Render the home page: stats, one section per category, a card per example with a badge per worker type, and load errors. */
export function renderHome(categories: HomeCategory[], errors: LoadError[]): string {
  const examples = categories.reduce((n, c) => n + c.examples.length, 0);
  const routes = categories.reduce((n, c) => n + c.examples.reduce((m, e) => m + e.routes, 0), 0);
  const sections = categories
    .filter((c) => c.examples.length > 0)
    .map(
      (c) => `
    <section class="category-section">
      <h2 class="category-title">${escapeHtml(c.title)}</h2>
      <div class="grid">${c.examples.map(card).join("")}
      </div>
    </section>`,
    )
    .join("");
  const errorList = errors.length
    ? `<section class="errors"><h2>Load errors (${errors.length})</h2><ul>${errors
        .map(
          (e) => `<li><code>${escapeHtml(e.file)}${e.line ? `:${e.line}` : ""}</code> — ${escapeHtml(e.message)}</li>`,
        )
        .join("")}</ul></section>`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Flash Examples</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; background: #0a0a0a; color: #e6e6e6; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  main, header, footer { max-width: 1200px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 2.2rem; margin: 0 0 8px; }
  .subtitle { color: #a0a0a0; margin: 0 0 24px; }
  .stats { display: flex; gap: 16px; margin-bottom: 24px; }
  .stat { background: #151515; border: 1px solid #262626; border-radius: 10px; padding: 12px 20px; }
  .stat b { display: block; font-size: 1.6rem; color: #bbb6fd; }
  .buttons a { display: inline-block; margin-right: 12px; padding: 10px 16px; border-radius: 8px; background: #bbb6fd; color: #0a0a0a; text-decoration: none; font-weight: 600; }
  .buttons a.secondary { background: transparent; color: #bbb6fd; border: 1px solid #bbb6fd; }
  .category-title { border-bottom: 1px solid #262626; padding-bottom: 8px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 16px; }
  .card { background: #151515; border: 1px solid #262626; border-radius: 12px; padding: 16px; }
  .card h3 { margin: 0 0 6px; }
  .card .prefix { font-family: ui-monospace, monospace; color: #8a8a8a; font-size: 0.85rem; }
  .endpoint-tag { display: inline-block; margin: 10px 8px 0 0; padding: 3px 10px; border-radius: 999px; border: 1px solid #bbb6fd; color: #bbb6fd; text-decoration: none; font-size: 0.8rem; font-weight: 600; }
  .errors { background: #2a1212; border: 1px solid #7a2b2b; border-radius: 12px; padding: 8px 16px; margin-bottom: 24px; }
  .errors code { color: #ffb4b4; }
  footer { color: #6a6a6a; font-size: 0.85rem; }
  @media (max-width: 768px) { .grid { grid-template-columns: 1fr; } .buttons a { display: block; margin: 8px 0; } }
</style>
</head>
<body>
<header>
  <h1>Flash Examples</h1>
  <p class="subtitle">Every example in this workspace, discovered and served by one app. Remote functions run on a local worker pool or on Runpod.</p>
  <div class="stats">
    <div class="stat"><b id="example-count">${examples}</b>Examples</div>
    <div class="stat"><b id="route-count">${routes}</b>Routes</div>
    <div class="stat"><b id="error-count">${errors.length}</b>Load errors</div>
  </div>
  <div class="buttons"><a href="/docs">Interactive API Docs</a><a class="secondary" href="/health">Health Check</a></div>
</header>
<main>
  ${errorList}${sections || "<p>No examples found. Create one with <code>flash init</code>.</p>"}
</main>
<footer>Automatically discovered examples · served by flash</footer>
</body>
</html>`;
}

function card(e: HomeExample): string {
  const badges = e.types
    .map(
      (t) =>
        `<a href="${escapeHtml(docsLink(e.tag))}" target="_blank" rel="noopener noreferrer" class="endpoint-tag">${escapeHtml(t.toUpperCase())}</a>`,
    )
    .join("");
  return `
        <div class="card"><h3>${escapeHtml(e.title)}</h3><div class="prefix">${escapeHtml(e.prefix)} · ${e.routes} route${e.routes === 1 ? "" : "s"}</div>${badges}</div>`;
}
