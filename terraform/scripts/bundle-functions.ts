/**
 * Builds one deployable folder per function under dist/function-bundles/<function>/, which
 * terraform zips and uploads (terraform/functions.tf):
 *
 *   index.js            the function's entry (functions/<source>/index.ts) and every module it
 *                       imports from shared/, bundled by esbuild, plus the pure-JS packages it uses
 *   package.json        only the external packages that index.js requires, at the lock's exact
 *                       versions; `main` = index.js; no devDependencies, no scripts
 *   package-lock.json   the repo's lock pruned to exactly those packages and their dependencies
 *
 * and <function>.meta.json beside each folder (esbuild's metafile: every input that went in).
 *
 * Why a bundler: the old folders held all of dist/shared (the emulator-only ONNX code in
 * shared/model among it) and every root dependency, onnxruntime-node (~290 MB installed),
 * commander and cli-progress included. Each function now ships what its imports reach and
 * nothing else. The Node.js buildpack runs `npm ci` against the lock (which must match
 * package.json exactly) and a `gcp-build` script if one exists; there is none, so nothing is
 * compiled in the cloud.
 *
 * Run: npm run bundle:functions [-- outDir]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { TOPOLOGY, type FunctionSpec } from '#shared/topology';

export interface PackageJson {
  name: string;
  version: string;
  license?: string;
  main?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  imports?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LockPackage {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

export interface PackageLock {
  lockfileVersion: number;
  packages: Record<string, LockPackage>;
  [key: string]: unknown;
}

/**
 * Packages left out of the bundle and installed by the buildpack instead, and why. Decided by
 * bundling each one (a probe that created every client and called the emulators worked fully
 * bundled too, but the file grew to 61 MB, mostly aiplatform's proto JSON, and loaded slower
 * than requiring the packages: 0.85 s against 0.80 s here). Everything else a function imports
 * (zod, protobufjs, @google/events, ...) is pure JavaScript and is bundled.
 */
export const EXTERNAL_PACKAGES: Readonly<Record<string, string>> = {
  '@google-cloud/functions-framework': 'the runtime that starts the function: cloudEvent() must register with the installed copy the buildpack launches, not a bundled one',
  '@google-cloud/aiplatform': 'google-gax client: ~50 MB of proto JSON and per-method retry config loaded at run time',
  '@google-cloud/firestore': 'google-gax client: protos and retry config loaded at run time',
  '@google-cloud/pubsub': 'google-gax client: protos and retry config loaded at run time',
  '@google-cloud/storage': 'shares google-auth-library and gaxios with the other clients; one installed copy',
  '@grpc/grpc-js': 'the same instance google-gax uses for channels and credentials',
  sharp: 'native libvips binding; the buildpack installs the @img/sharp-<platform> binary for its machine',
};

/** What no function may ship: emulator, CLI and local-stack code and their packages. */
export const FORBIDDEN_PACKAGES = ['onnxruntime-node', 'commander', 'cli-progress'] as const;
export const FORBIDDEN_SOURCE = [/^local\//, /^shared\/model\//] as const;

export interface FunctionBundle {
  fn: string;
  dir: string;
  manifest: PackageJson;
  lock: PackageLock;
  metafile: Metafile;
}

/** The package an esbuild input or import path belongs to ("node_modules/@a/b/x.js" -> "@a/b"). */
export function packageOf(path: string): string | undefined {
  const i = path.lastIndexOf('node_modules/');
  const rest = i >= 0 ? path.slice(i + 'node_modules/'.length) : path;
  if (i < 0 && (path.startsWith('.') || path.startsWith('/') || path.startsWith('#') || path.startsWith('node:'))) return undefined;
  const parts = rest.split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** The packages a bundle requires at run time (its external imports), sorted. */
export function externalImports(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const out of Object.values(metafile.outputs)) {
    for (const imp of out.imports) {
      if (!imp.external || imp.path.startsWith('node:') || builtinModules.includes(imp.path.split('/')[0]!)) continue;
      const name = packageOf(imp.path);
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/** Every package whose code went into the bundle, sorted. */
export function bundledPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    if (input.includes('node_modules/')) names.add(packageOf(input)!);
  }
  return [...names].sort();
}

/** Problems that make a bundle unshippable: forbidden packages or sources, packages the repo does not depend on. */
export function bundleViolations(metafile: Metafile, manifest: PackageJson, root: PackageJson): string[] {
  const problems: string[] = [];
  const runtime = new Set(Object.keys(root.dependencies ?? {}));
  for (const input of Object.keys(metafile.inputs)) {
    if (FORBIDDEN_SOURCE.some((re) => re.test(input))) problems.push(`bundles ${input}`);
  }
  const used = [...bundledPackages(metafile), ...externalImports(metafile), ...Object.keys(manifest.dependencies ?? {})];
  for (const name of new Set(used)) {
    if ((FORBIDDEN_PACKAGES as readonly string[]).includes(name)) problems.push(`ships ${name}`);
  }
  // a package left external must be a runtime dependency, or the lock cannot pin it
  for (const name of externalImports(metafile)) {
    if (!runtime.has(name)) problems.push(`requires ${name}, which is not in package.json dependencies`);
  }
  if (manifest.devDependencies) problems.push('package.json has devDependencies');
  if (manifest.dependencies?.node) problems.push('package.json lists the `node` package');
  return problems;
}

/** The package.json a function ships with: its external imports at the lock's exact versions. */
export function shippedManifest(root: PackageJson, lock: PackageLock, fn: Pick<FunctionSpec, 'name'>, externals: readonly string[]): PackageJson {
  const dependencies: Record<string, string> = {};
  for (const name of [...externals].sort()) {
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (!version) throw new Error(`package-lock.json has no top-level node_modules/${name}: run npm install`);
    dependencies[name] = version;
  }
  return {
    name: `${root.name}-${fn.name}`,
    version: root.version,
    private: true,
    license: root.license,
    main: 'index.js',
    engines: { node: '>=22' },
    dependencies,
  };
}

/** Where `name` required from the lock entry at `from` resolves, the way Node walks node_modules up. */
export function resolveInLock(lock: PackageLock, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/**
 * The repo's lock cut down to the manifest's dependencies and everything they need. Flags are
 * recomputed for the new tree: nothing is dev (the buildpack may omit dev packages), and a
 * package is optional only when every path to it goes through an optional edge, so npm ci
 * installs the same set the repo's tree holds for these packages.
 */
export function prunedLockfile(lock: PackageLock, manifest: PackageJson): PackageLock {
  if (lock.lockfileVersion < 2) throw new Error(`package-lock.json v${lock.lockfileVersion} has no "packages" map; regenerate it with npm >= 7`);
  const roots = Object.keys(manifest.dependencies ?? {}).map((n) => `node_modules/${n}`);
  const walk = (withOptional: boolean): Set<string> => {
    const seen = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
      const path = queue.pop()!;
      if (seen.has(path)) continue;
      const entry = lock.packages[path];
      if (!entry) throw new Error(`package-lock.json has no ${path}`);
      seen.add(path);
      const optionalPeers = Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n);
      const required = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n))];
      const optional = Object.keys(entry.optionalDependencies ?? {});
      for (const dep of required) {
        const to = resolveInLock(lock, path, dep);
        if (!to) throw new Error(`package-lock.json: ${path} needs ${dep}, which it does not hold`);
        queue.push(to);
      }
      if (!withOptional) continue;
      for (const dep of optional) {
        const to = resolveInLock(lock, path, dep);
        if (to) queue.push(to);
      }
    }
    return seen;
  };
  const all = walk(true);
  const required = walk(false);
  const packages: Record<string, LockPackage> = {
    '': { name: manifest.name, version: manifest.version, license: manifest.license, dependencies: manifest.dependencies, engines: manifest.engines } as LockPackage,
  };
  for (const path of [...all].sort()) {
    const { dev: _dev, devOptional: _devOptional, optional: _optional, peer: _peer, ...entry } = lock.packages[path]!;
    packages[path] = required.has(path) ? entry : { ...entry, optional: true };
  }
  return { name: manifest.name, version: manifest.version, lockfileVersion: lock.lockfileVersion, requires: true, packages };
}

/** Bundles one function into `dir` and returns what it wrote. */
export function bundleFunction(repoRoot: string, root: PackageJson, lock: PackageLock, fn: Pick<FunctionSpec, 'name' | 'source'>, outDir: string): FunctionBundle {
  const dir = join(outDir, fn.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = buildSync({
    absWorkingDir: repoRoot,
    entryPoints: [join(repoRoot, 'functions', fn.source, 'index.ts')],
    outfile: join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // `#shared/*` resolves to the TypeScript sources (package.json "imports", condition `source`)
    conditions: ['source'],
    external: Object.keys(EXTERNAL_PACKAGES),
    metafile: true,
    logLevel: 'silent',
  });
  const metafile = result.metafile!;
  const manifest = shippedManifest(root, lock, fn, externalImports(metafile));
  const problems = bundleViolations(metafile, manifest, root);
  if (problems.length > 0) throw new Error(`${fn.name}: ${problems.join('; ')}`);
  const prunedLock = prunedLockfile(lock, manifest);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(prunedLock, null, 2) + '\n');
  writeFileSync(join(outDir, `${fn.name}.meta.json`), JSON.stringify(metafile, null, 2) + '\n');
  return { fn: fn.name, dir, manifest, lock: prunedLock, metafile };
}

export function readRepoManifests(repoRoot: string): { root: PackageJson; lock: PackageLock } {
  return {
    root: JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson,
    lock: JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as PackageLock,
  };
}

export function bundleFunctions(repoRoot: string, outDir: string, functions: readonly Pick<FunctionSpec, 'name' | 'source'>[] = TOPOLOGY.functions): FunctionBundle[] {
  const { root, lock } = readRepoManifests(repoRoot);
  return functions.map((fn) => bundleFunction(repoRoot, root, lock, fn, outDir));
}

if (require.main === module) {
  const repoRoot = resolve(__dirname, '..', '..');
  const outDir = resolve(process.argv[2] ?? join(repoRoot, 'dist', 'function-bundles'));
  try {
    for (const b of bundleFunctions(repoRoot, outDir)) {
      process.stdout.write(`${relative(process.cwd(), b.dir)}  ${Object.keys(b.manifest.dependencies ?? {}).join(' ')}\n`);
    }
  } catch (err) {
    process.stderr.write(`bundle-functions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
