/**
 * The files of a deploy: the workspace sources in scope (filtered like the Python build: `.flashignore`, `.gitignore`
 * and built-in patterns, runpod/flash src/runpod_flash/cli/commands/build.py), the local modules they import, and
 * the npm packages they import as installed from the workspace's bun.lock (symlinks of Bun's isolated store kept,
 * so resolution on the worker is the same as here), with other platforms' native binaries, source maps and type
 * declarations left out.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import defaultFlashignore from "../../templates/workspace/flashignore.tpl" with { type: "text" };
import type { Scope } from "../workspace/discovery";
import { localClosure, scopeDir } from "./discover";
import type { TarEntry } from "./tar";

/** Patterns always left out (as the Python build's built-in list, plus secrets: `.env` never travels). */
const BUILTIN_IGNORES = [
  ".git/",
  ".flash/",
  ".build/",
  "node_modules/",
  "*.tar.gz",
  ".env",
  ".env.*",
  ".DS_Store",
  "*.log",
];

/**
 * Files that look like credentials or editor leftovers: never packaged (the artifact is unpacked on every worker
 * and stored with the app's builds), and named in the build's output so that a needed one can be renamed.
 */
const CREDENTIAL_PATTERNS = [
  "id_rsa*",
  "id_dsa*",
  "id_ecdsa*",
  "id_ed25519*",
  "*.pem",
  "*.key",
  "*.p12",
  "*.pfx",
  "*.keystore",
  "credentials.json",
  "*credentials*.json",
  "service-account*.json",
  ".npmrc",
  ".netrc",
  ".pypirc",
  ".aws/",
  ".ssh/",
  ".gnupg/",
  "*.swp",
  "*~",
  "*.bak",
];

/** What `flash init` writes to `.flashignore` (tests and dev-only files stay out of deploys). */
export const DEFAULT_FLASHIGNORE: string = defaultFlashignore;

/** Packages the worker's flash engine provides: never shipped (one Elysia, one flash). */
const ENGINE_PACKAGES = new Set(["flash", "elysia", "@sinclair/typebox", "bun"]);

/** Root files the mothership needs to see the folder as a workspace. */
const ROOT_FILES = ["package.json", "tsconfig.json", "bunfig.toml", "bun.lock"];

/** The collected files of an artifact, and facts for the summary. */
export interface Collected {
  entries: TarEntry[];
  /** Absolute paths of the packaged workspace sources (not packages). */
  sources: string[];
  /** npm packages shipped (`name@version`). */
  packages: string[];
  /** npm packages the code imports that are not installed here (the worker installs declared dependencies). */
  missing: string[];
  bytes: { sources: number; packages: number };
  /** Package files left out because no worker runs them (source maps, type declarations). */
  pruned: { files: number; bytes: number };
}

/**
 * The ignore rules of a deploy: the built-in list, then every `.gitignore` and `.flashignore` from the workspace
 * root down to each packaged folder (a nested file's patterns apply below its folder, as git applies them).
 */
function loadIgnore(root: string, folders: string[]): Ignore {
  const ig = ignore().add(BUILTIN_IGNORES);
  for (const base of [...new Set(folders)].sort((a, b) => a.length - b.length || a.localeCompare(b))) {
    for (const name of [".gitignore", ".flashignore"]) {
      const file = join(base, name);
      if (!existsSync(file)) continue;
      const prefix = relative(root, base).split(sep).join("/");
      const lines = readFileSync(file, "utf8").split("\n");
      // Patterns of a nested file apply below its folder: re-anchor them at the workspace root.
      ig.add(prefix ? lines.map((l) => anchor(l, prefix)) : lines);
    }
  }
  return ig;
}

/** Every folder from `root` down to each file's folder (where ignore files may sit). */
function foldersOf(root: string, files: string[]): string[] {
  const out = new Set<string>([root]);
  for (const f of files) {
    for (let d = dirname(f); d.startsWith(root) && !out.has(d); d = dirname(d)) out.add(d);
  }
  return [...out];
}

function anchor(line: string, prefix: string): string {
  const t = line.trim();
  if (!t || t.startsWith("#")) return t;
  const neg = t.startsWith("!") ? "!" : "";
  const p = neg ? t.slice(1) : t;
  const body = p.startsWith("/") ? p.slice(1) : p.includes("/") && !p.endsWith("/") ? p : `**/${p}`;
  return `${neg}${prefix}/${body}`;
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) {
      if (name === "node_modules" || name === ".git" || name === ".flash") continue;
      walk(path, out);
    } else if (st.isFile()) out.push(path);
  }
}

/** The workspace sources a deploy of `scope` packages (absolute paths, sorted). */
export function selectSources(
  root: string,
  scope: Scope,
  entries: string[],
  /** Told each file left out because it looks like a credential (relative path). */
  onCredential: (rel: string) => void = () => {},
): string[] {
  const dir = scopeDir(root, scope);
  const credentials = ignore().add(CREDENTIAL_PATTERNS);
  const picked = new Set<string>();
  const files: string[] = [];
  walk(dir, files);
  for (const f of ROOT_FILES) if (existsSync(join(root, f))) files.push(join(root, f));
  // Category folders above an example scope carry shared modules and titles; their own files (not subfolders) go too.
  if (scope.category && scope.example) {
    const cat = join(root, scope.category);
    for (const name of readdirSync(cat)) if (statSync(join(cat, name)).isFile()) files.push(join(cat, name));
  }
  if (dir === root) {
    // The whole workspace: its numbered category folders only (a repository may hold other code next to them).
    const keep = (f: string) => /^[0-9]{2}_/.test(relative(root, f)) || ROOT_FILES.includes(relative(root, f));
    for (let i = files.length - 1; i >= 0; i--) if (!keep(files[i]!)) files.splice(i, 1);
  }
  // Modules the routers import from outside the scope (a shared helper folder) travel with them.
  files.push(...localClosure(root, entries));
  const ig = loadIgnore(root, foldersOf(root, files));
  for (const f of files) {
    const rel = relative(root, f).split(sep).join("/");
    if (rel.startsWith("..")) continue;
    if (ROOT_FILES.includes(rel)) picked.add(f);
    else if (ig.ignores(rel)) continue;
    else if (credentials.ignores(rel)) onCredential(rel);
    else picked.add(f);
  }
  return [...picked].sort();
}

/** Whether a path inside a package holds another platform's native binaries (Runpod workers are linux x64). */
export function foreignPlatformPath(rel: string): boolean {
  const parts = rel.split("/");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (/^(darwin|win32|win|windows|macos|android|freebsd|openbsd|sunos|aix)([-_].*)?$/i.test(p)) return true;
    if (/^linux([-_](arm|arm64|aarch64|ia32|ppc64|s390x|riscv64|musl).*)$/i.test(p)) return true;
    if (p === "linux" && /^(arm|arm64|aarch64|ia32|ppc64|s390x|riscv64)$/.test(parts[i + 1] ?? "")) return true;
  }
  return false;
}

/**
 * Whether a file of a package is never run: a source map (`x.js.map`, read by debuggers, not by Bun at run time) or a
 * type declaration (`x.d.ts`, read by tsc). They are 40 % of the bytes and 44 % of the files of the upscaling example's
 * packages (tfjs ships a 2.8 MB map per bundle), and every worker unpacks the artifact at each cold start.
 * A `.map` that is not a source map (a data file) stays.
 */
function unusedAtRunTime(name: string): boolean {
  return /\.(?:[cm]?[jt]sx?|css)\.map$/.test(name) || /\.d\.[cm]?ts$/.test(name) || name.endsWith(".tsbuildinfo");
}

class PackageCollector {
  readonly entries = new Map<string, TarEntry>();
  readonly pruned = { files: 0, bytes: 0 };
  readonly packages = new Set<string>();
  readonly missing = new Set<string>();
  bytes = 0;
  private readonly seenDirs = new Set<string>();

  constructor(private readonly root: string) {}

  /** Ship the package `name` as `fromDir` resolves it (node resolution: the nearest node_modules upwards). */
  add(name: string, fromDir: string): void {
    if (ENGINE_PACKAGES.has(name) || name.startsWith("@types/")) return;
    const found = this.find(name, fromDir);
    if (!found) {
      this.missing.add(name);
      return;
    }
    const real = this.addPath(found);
    if (!real || this.seenDirs.has(real)) return;
    this.addHoistedLink(name);
    this.seenDirs.add(real);
    let pkg: { name?: string; version?: string; dependencies?: object; optionalDependencies?: object } = {};
    try {
      pkg = JSON.parse(readFileSync(join(real, "package.json"), "utf8"));
    } catch {
      // a package without a readable package.json still ships; it just has no dependencies to follow
    }
    this.packages.add(`${pkg.name ?? name}@${pkg.version ?? "?"}`);
    this.walkPackage(real, real);
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      if (this.find(dep, real)) this.add(dep, real); // optional ones for other platforms are not installed: skipped
    }
  }

  /**
   * Bun's isolated install also links every package into `node_modules/.bun/node_modules`, where node resolution from
   * any package in the store finds it: a package that imports one it does not declare (ocr-common imports
   * onnxruntime-common) resolves there locally, so the link ships with the package it points to.
   */
  private addHoistedLink(name: string): void {
    const link = join(this.root, "node_modules", ".bun", "node_modules", name);
    if (existsSync(link) && lstatSync(link).isSymbolicLink()) this.addPath(link);
  }

  private find(name: string, fromDir: string): string | undefined {
    for (let d = fromDir; ; d = dirname(d)) {
      const candidate = join(d, "node_modules", name);
      if (existsSync(candidate)) return candidate;
      if (d === this.root || dirname(d) === d || !d.startsWith(this.root)) return undefined;
    }
  }

  /** Add `path` with every symlink on its way (as symlink entries); returns its real path inside the workspace. */
  private addPath(path: string): string | undefined {
    const rel = relative(this.root, path).split(sep);
    let cur = this.root;
    for (const part of rel) {
      cur = join(cur, part);
      const st = lstatSync(cur);
      if (!st.isSymbolicLink()) continue;
      const target = readlinkSync(cur);
      const abs = resolve(dirname(cur), target);
      if (!abs.startsWith(this.root + sep)) return undefined; // a link out of the workspace cannot travel
      const key = relative(this.root, cur).split(sep).join("/");
      this.entries.set(key, { path: key, type: "symlink", target: relative(dirname(cur), abs).split(sep).join("/") });
      return this.addPath(join(abs, relative(cur, path)));
    }
    return realpathSync(path);
  }

  private walkPackage(dir: string, pkgRoot: string): void {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relInPkg = relative(pkgRoot, path).split(sep).join("/");
      if (name === ".bin" || foreignPlatformPath(relInPkg)) continue;
      const st = lstatSync(path);
      const key = relative(this.root, path).split(sep).join("/");
      if (st.isSymbolicLink()) {
        const abs = resolve(dir, readlinkSync(path));
        if (!abs.startsWith(this.root + sep)) continue;
        this.entries.set(key, { path: key, type: "symlink", target: relative(dir, abs).split(sep).join("/") });
      } else if (st.isDirectory()) {
        if (name === "node_modules") continue; // nested packages are reached through dependencies
        this.walkPackage(path, pkgRoot);
      } else if (st.isFile()) {
        if (unusedAtRunTime(name)) {
          this.pruned.files++;
          this.pruned.bytes += st.size;
          continue;
        }
        const data = readFileSync(path);
        this.bytes += data.length;
        this.entries.set(key, { path: key, type: "file", data, executable: (st.mode & 0o111) !== 0 });
      }
    }
  }
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

function packageName(spec: string): string | undefined {
  if (spec.startsWith(".") || spec.startsWith("/") || spec.includes(":")) return undefined;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The nearest folder below the workspace root (exclusive) that holds a package.json, from `dir` upwards. */
function packageDirOf(root: string, dir: string): string | undefined {
  for (let d = dir; d.startsWith(root + sep); d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
  }
  return undefined;
}

/** Collect the artifact's files: the sources, then the npm packages they import (and declared dependencies). */
export function collectFiles(
  root: string,
  sources: string[],
  declared: { module: string; deps: string[] }[],
): Collected {
  const entries: TarEntry[] = [];
  let sourceBytes = 0;
  const packages = new PackageCollector(root);
  for (const file of sources) {
    const data = readFileSync(file);
    sourceBytes += data.length;
    const rel = relative(root, file).split(sep).join("/");
    entries.push({ path: rel, type: "file", data, executable: (statSync(file).mode & 0o111) !== 0 });
    if (!/\.[cm]?[jt]sx?$/.test(file)) continue;
    let imports: { path: string }[] = [];
    try {
      imports = transpiler.scanImports(data.toString("utf8"));
    } catch {
      continue;
    }
    for (const imp of imports) {
      const name = packageName(imp.path);
      if (name) packages.add(name, dirname(file));
    }
  }
  // The dependencies a source's own package declares (an example imported by another one): its code may load them
  // by a computed path, which no import scan sees, so they ship linked where that package's folder resolves them.
  for (const dir of new Set(sources.map((f) => packageDirOf(root, dirname(f))))) {
    if (!dir) continue;
    const deps = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: object })
      .dependencies;
    for (const name of Object.keys(deps ?? {})) packages.add(name, dir);
  }
  for (const d of declared) {
    for (const spec of d.deps) {
      const at = spec.indexOf("@", spec.startsWith("@") ? 1 : 0);
      packages.add(at > 0 ? spec.slice(0, at) : spec, dirname(join(root, d.module)));
    }
  }
  entries.push(...packages.entries.values());
  return {
    entries,
    sources,
    packages: [...packages.packages].sort(),
    missing: [...packages.missing].sort(),
    bytes: { sources: sourceBytes, packages: packages.bytes },
    pruned: packages.pruned,
  };
}
