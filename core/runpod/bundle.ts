/**
 * What a Runpod call ships: the function's module bundled with Bun.build (target bun; "flash", "elysia" and the
 * function's declared npm dependencies left as imports), with a source map whose paths put every inlined module
 * at its own workspace-relative path. The worker writes the bundle beside those sources (`<path>.bundle.js`), so
 * stack traces name the original files and lines; the bundle exports what its entry module exports.
 */
import { shortHash } from "../base/fs";
import { statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { BunPlugin } from "bun";
import { log } from "../base/log";
import type { ShippedBundle } from "./api";

/** A bundle as built here: always with its code (calls may then send it by hash only). */
export type BuiltBundle = ShippedBundle & { code: string };

/** Packages that must come from the worker's own flash, never be bundled (one registry, one Elysia). */
const ALWAYS_EXTERNAL = ["flash", "elysia", "@sinclair/typebox"];

/** The package name of an npm spec (`a@1` → `a`, `@s/a@2` → `@s/a`). */
export function specName(spec: string): string {
  const at = spec.indexOf("@", spec.startsWith("@") ? 1 : 0);
  return at > 0 ? spec.slice(0, at) : spec;
}

interface Cached {
  bundle: BuiltBundle;
  inputs: [string, number][];
}

/** Bundles modules on demand and keeps each until one of its input files changes. */
export class Bundler {
  private readonly cache = new Map<string, Promise<Cached>>();
  /** Bundles built (not served from cache); benchmarks and tests read it. */
  builds = 0;

  constructor(private readonly root: string) {}

  /** Drop every cached bundle (hot reload). */
  clear(): void {
    this.cache.clear();
  }

  /** The bundle of `file` with `dependencies` (npm specs) left external; rebuilt when any input changed. */
  async bundle(file: string, dependencies: string[] = []): Promise<BuiltBundle> {
    const key = `${file}\0${[...dependencies].sort().join(",")}`;
    const hit = this.cache.get(key);
    if (hit) {
      const cached = await hit.catch(() => undefined);
      if (cached && fresh(cached.inputs)) return cached.bundle;
      this.cache.delete(key);
    }
    const pending = this.build(file, dependencies);
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    return (await pending).bundle;
  }

  private async build(file: string, dependencies: string[]): Promise<Cached> {
    const root = this.rootFor(file);
    const rel = relative(root, file).split(sep).join("/");
    const external = [...ALWAYS_EXTERNAL, ...dependencies.map(specName)];
    // A plugin, not just `external`: tsconfig `paths` would otherwise resolve "flash" to core/ and inline it.
    const keep: BunPlugin = {
      name: "flash-externals",
      setup(build) {
        const names = new Set(external);
        build.onResolve({ filter: /^[^./]/ }, (args) => {
          const spec = args.path;
          const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
          return names.has(pkg) ? { path: spec, external: true } : undefined;
        });
      },
    };
    const common = {
      entrypoints: [file],
      root,
      target: "bun" as const,
      format: "esm" as const,
      sourcemap: "external" as const,
      external,
      plugins: [keep],
      throw: false,
    };
    let result = await Bun.build(common);
    if (!result.success) {
      // A package that cannot be bundled (native addon…): leave every npm import to the worker instead.
      log.debug(`bundling ${rel} with npm packages inlined failed; retrying with packages external`);
      result = await Bun.build({ ...common, packages: "external" });
    }
    if (!result.success) {
      const why = result.logs.map((l) => String(l.message ?? l)).join("; ");
      throw new Error(`cannot bundle ${rel} for Runpod: ${why}`);
    }
    this.builds++;
    const js = result.outputs.find((o) => o.kind === "entry-point");
    const mapOut = result.outputs.find((o) => o.kind === "sourcemap");
    if (!js) throw new Error(`bundling ${rel} produced no output`);
    let code = (await js.text()).replace(/^\/\/# (sourceMappingURL|debugId)=.*$/gm, "").trimEnd();
    const inputs: [string, number][] = [];
    if (mapOut) {
      const map = JSON.parse(await mapOut.text()) as { sources: string[] };
      // Sources are relative to the bundle root; make them relative to where the worker writes the bundle.
      // Bun writes sources relative to a base that depends on cwd and output depth: take the candidate that exists.
      const here = join(root, dirname(rel));
      const bases = [root, process.cwd(), here, join(process.cwd(), dirname(rel))];
      map.sources = map.sources.map((s) => {
        const abs = bases.map((b) => resolve(b, s)).find((p) => mtime(p) !== undefined);
        if (!abs) return s;
        inputs.push([abs, mtime(abs)!]);
        return relative(here, abs).split(sep).join("/") || s;
      });
      code += `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`;
    }
    if (!inputs.some(([p]) => p === file)) inputs.push([file, mtime(file) ?? 0]);
    const hash = shortHash(code);
    return { bundle: { path: rel, hash, code }, inputs };
  }

  private rootFor(file: string): string {
    const r = relative(this.root, file);
    return !r.startsWith("..") && !isAbsolute(r) ? this.root : dirname(file);
  }
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function fresh(inputs: [string, number][]): boolean {
  return inputs.every(([p, m]) => mtime(p) === m);
}
