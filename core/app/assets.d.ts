// Files imported `with { type: "file" }` resolve to their path (embedded into the compiled binary).
declare module "swagger-ui-dist/*" {
  const path: string;
  export default path;
}
