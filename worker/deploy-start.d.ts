// worker/deploy-start.js is imported `with { type: "text" }` (core/runpod/worker-program.ts): its text, not a module.
declare const source: string;
export default source;
