/** `async function*` or `function*`: a remote function of this kind streams what it yields. */
export function isGeneratorFunction(value: unknown): boolean {
  const tag = Object.prototype.toString.call(value);
  return tag === "[object AsyncGeneratorFunction]" || tag === "[object GeneratorFunction]";
}
