// worker/deploy-start.js is imported `with { type: "text" }` (core/runpod/deploy-start.ts): its text, not a module.
declare const source: string;
export default source;
