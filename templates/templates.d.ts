/** Template files are imported as text (`with { type: "text" }`) so that the compiled binary embeds them. */
declare module "*.tpl" {
  const text: string;
  export default text;
}

/** The root guides (AGENTS.md, CLAUDE.md) are imported as text too: a new workspace gets them as they are. */
declare module "*.md" {
  const text: string;
  export default text;
}
