/** Template files are imported as text (`with { type: "text" }`) so that the compiled binary embeds them. */
declare module "*.tpl" {
  const text: string;
  export default text;
}
