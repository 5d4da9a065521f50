/** The Emscripten build of eSpeak NG ships no types: its default export starts the WebAssembly module. */
declare module "@echogarden/espeak-ng-emscripten" {
  /** Instantiate the module (compiles the WebAssembly and mounts the voice data); resolves to the Emscripten module. */
  const initialize: () => Promise<unknown>;
  export default initialize;
}
