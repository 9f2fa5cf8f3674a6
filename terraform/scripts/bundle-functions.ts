/**
 * Builds one deployable folder per function under dist/function-bundles/<function>/, which
 * terraform zips and uploads (terraform/functions.tf):
 *
 *   dist/shared/**, dist/functions/<source>/**   the compiled code (run `npm run build` first)
 *   package.json                                 runtime dependencies only, `main` = the function
 *   package-lock.json                            the repo's lock minus every dev-only package
 *   .npmrc                                       the repo's (onnxruntime-node skips its download)
 *
 * Why not ship the repo as is: the `node` devDependency is this machine's Node binary, and
 * Cloud Functions' Node.js buildpack installs what package.json lists and runs a `gcp-build`
 * script if there is one. The shipped package.json has no devDependencies and no scripts, so
 * the buildpack only runs `npm ci` against a lock that matches it, and nothing is compiled in
 * the cloud.
 *
 * Run: npx node --conditions=source --import tsx terraform/scripts/bundle-functions.ts [outDir]
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TOPOLOGY, type FunctionSpec } from '#shared/topology';

export interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  imports?: Record<string, unknown>;
  [key: string]: unknown;
}

interface LockPackage {
  dev?: boolean;
  [key: string]: unknown;
}

export interface PackageLock {
  lockfileVersion: number;
  packages: Record<string, LockPackage>;
  [key: string]: unknown;
}

/** The package.json a function ships with. */
export function shippedManifest(root: PackageJson, fn: Pick<FunctionSpec, 'name' | 'source'>): PackageJson {
  return {
    name: `${root.name}-${fn.name}`,
    version: root.version,
    private: true,
    license: root.license,
    main: `dist/functions/${fn.source}/index.js`,
    engines: { node: '>=22' },
    // compiled code only: each subpath import points at dist/
    imports: {
      '#shared/*': './dist/shared/*.js',
      '#functions/*': './dist/functions/*.js',
    },
    dependencies: { ...root.dependencies },
  };
}

/** The repo's lock with dev-only packages removed, so `npm ci` accepts it for the shipped manifest. */
export function prunedLockfile(lock: PackageLock, manifest: PackageJson): PackageLock {
  if (lock.lockfileVersion < 2) throw new Error(`package-lock.json v${lock.lockfileVersion} has no "packages" map; regenerate it with npm >= 7`);
  const packages: Record<string, LockPackage> = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '') {
      packages[path] = { name: manifest.name, version: manifest.version, license: manifest.license, dependencies: manifest.dependencies, engines: manifest.engines };
    } else if (!entry.dev) {
      packages[path] = entry;
    }
  }
  return { ...lock, name: manifest.name, version: manifest.version, packages };
}

export function bundleFunctions(repoRoot: string, outDir: string, functions: readonly FunctionSpec[] = TOPOLOGY.functions): string[] {
  const dist = join(repoRoot, 'dist');
  if (!existsSync(join(dist, 'shared'))) throw new Error(`${dist}/shared is missing: run \`npm run build\` first`);
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as PackageLock;
  const written: string[] = [];
  for (const fn of functions) {
    const compiled = join(dist, 'functions', fn.source);
    if (!existsSync(join(compiled, 'index.js'))) throw new Error(`${compiled}/index.js is missing: is functions/${fn.source}/index.ts there, and was it built?`);
    const dir = join(outDir, fn.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'dist', 'functions'), { recursive: true });
    cpSync(join(dist, 'shared'), join(dir, 'dist', 'shared'), { recursive: true, filter: (src) => !src.endsWith('.map') });
    cpSync(compiled, join(dir, 'dist', 'functions', fn.source), { recursive: true, filter: (src) => !src.endsWith('.map') });
    const manifest = shippedManifest(root, fn);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(prunedLockfile(lock, manifest), null, 2) + '\n');
    if (existsSync(join(repoRoot, '.npmrc'))) cpSync(join(repoRoot, '.npmrc'), join(dir, '.npmrc'));
    written.push(dir);
  }
  return written;
}

if (require.main === module) {
  const repoRoot = resolve(__dirname, '..', '..');
  const outDir = resolve(process.argv[2] ?? join(repoRoot, 'dist', 'function-bundles'));
  try {
    for (const dir of bundleFunctions(repoRoot, outDir)) process.stdout.write(`${dir}\n`);
  } catch (err) {
    process.stderr.write(`bundle-functions: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
