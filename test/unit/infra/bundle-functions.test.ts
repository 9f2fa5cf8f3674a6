import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Metafile } from 'esbuild';
import { TOPOLOGY } from '#shared/topology';
import {
  EXTERNAL_PACKAGES,
  FORBIDDEN_PACKAGES,
  bundleViolations,
  externalImports,
  packageOf,
  prunedLockfile,
  shippedManifest,
  type PackageJson,
  type PackageLock,
} from '../../../terraform/scripts/bundle-functions';
import { REPO_ROOT } from './source-scan';

const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as PackageLock;

interface Built {
  name: string;
  dir: string;
  manifest: PackageJson;
  lock: PackageLock;
  metafile: Metafile;
}

/** Runs the real command (`npm run bundle:functions`' script) into a folder outside the repo. */
function buildBundles(outDir: string): Built[] {
  execFileSync(NODE, ['--conditions=source', '--import', 'tsx', 'terraform/scripts/bundle-functions.ts', outDir], { cwd: REPO_ROOT, stdio: 'pipe' });
  return TOPOLOGY.functions.map((fn) => {
    const dir = join(outDir, fn.name);
    const read = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;
    return { name: fn.name, dir, manifest: read(join(dir, 'package.json')), lock: read(join(dir, 'package-lock.json')), metafile: read(join(outDir, `${fn.name}.meta.json`)) };
  });
}

/**
 * node_modules holding exactly the packages the bundle lists (symlinks into the repo's install,
 * whose own dependencies resolve from there), so a require of anything unlisted fails the way it
 * would on Cloud Functions. The folder is outside the repo: no parent node_modules to fall back on.
 */
function linkListedPackages(b: Built): void {
  for (const name of Object.keys(b.manifest.dependencies ?? {})) {
    const link = join(b.dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules', name), link, 'dir');
  }
}

const LOAD_PROBE = `
const target = process.argv[1];
require('./index.js');
const { getFunction } = require('@google-cloud/functions-framework/testing');
const loaded = Object.keys(require.cache);
process.stdout.write(JSON.stringify({ registered: typeof getFunction(target), loaded }));
`;

describe('the function bundles terraform ships', () => {
  let out: string;
  let bundles: Built[];

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'dropship-bundles-'));
    bundles = buildBundles(out);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('bundle no emulator, CLI or local-stack code: nothing from local/ or shared/model/, no onnxruntime-node, commander or cli-progress', () => {
    for (const b of bundles) {
      const inputs = Object.keys(b.metafile.inputs);
      expect(inputs).toContain(`functions/${TOPOLOGY.functions.find((f) => f.name === b.name)!.source}/index.ts`);
      expect(inputs.filter((i) => i.startsWith('local/') || i.startsWith('shared/model/'))).toEqual([]);
      const packages = inputs.map(packageOf).filter(Boolean);
      for (const forbidden of FORBIDDEN_PACKAGES) {
        expect(packages).not.toContain(forbidden);
        expect(Object.keys(b.manifest.dependencies ?? {})).not.toContain(forbidden);
        expect(Object.keys(b.lock.packages).filter((p) => packageOf(p) === forbidden)).toEqual([]);
      }
    }
  });

  it('list exactly the packages each bundle requires, at the exact versions of the repo lock, and nothing for development', () => {
    for (const b of bundles) {
      const externals = externalImports(b.metafile);
      expect(Object.keys(b.manifest.dependencies ?? {})).toEqual(externals);
      for (const name of externals) {
        expect(Object.keys(EXTERNAL_PACKAGES)).toContain(name);
        expect(b.manifest.dependencies![name]).toBe(lock.packages[`node_modules/${name}`]!.version);
      }
      expect(b.manifest.main).toBe('index.js');
      expect(b.manifest.devDependencies).toBeUndefined();
      expect(b.manifest.scripts).toBeUndefined();
      expect(b.manifest.dependencies!.node).toBeUndefined();
      expect(Object.values(b.lock.packages).some((p) => p.dev || p.devOptional)).toBe(false);
      expect(b.lock.packages['']!.dependencies).toEqual(b.manifest.dependencies);
    }
    // the worker decodes images, and intake prepares them for batch jobs; nothing else needs sharp
    expect(bundles.find((b) => b.name === 'predict-worker')!.manifest.dependencies!.sharp).toBe(root.dependencies!.sharp);
    expect(
      bundles
        .filter((b) => b.manifest.dependencies!.sharp)
        .map((b) => b.name)
        .sort(),
    ).toEqual(['image-intake', 'predict-worker']);
    // only the functions that call Vertex AI carry its client (about 100 MB installed)
    expect(
      bundles
        .filter((b) => b.manifest.dependencies!['@google-cloud/aiplatform'])
        .map((b) => b.name)
        .sort(),
    ).toEqual(['batch-follower', 'model-drop', 'predict-worker', 'reconciler']);
    expect(Object.keys(bundles.find((b) => b.name === 'results-ledger')!.manifest.dependencies!)).toEqual(['@google-cloud/firestore', '@google-cloud/functions-framework']);
  });

  it('ship a lock npm ci accepts as in sync with the package.json (dry run, offline, empty cache)', () => {
    // not the npm_config_* of the `npm test` that started jest (the repo's .npmrc among them)
    const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')));
    const cache = mkdtempSync(join(tmpdir(), 'dropship-npm-cache-'));
    try {
      for (const b of bundles) {
        const r = spawnSync('npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', cache], { cwd: b.dir, encoding: 'utf8', env: npmEnv });
        // a lock that misses or mismatches a package makes npm fetch its metadata: ENOTCACHED offline
        expect({ fn: b.name, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ fn: b.name, status: 0, stderr: '' });
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('load on Node 22 with only their listed packages, and register their function with functions-framework', () => {
    for (const b of bundles) {
      linkListedPackages(b);
      const r = spawnSync(NODE, ['-e', LOAD_PROBE, b.name], { cwd: b.dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
      expect({ fn: b.name, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ fn: b.name, status: 0, stderr: '' });
      const { registered, loaded } = JSON.parse(r.stdout) as { registered: string; loaded: string[] };
      expect({ fn: b.name, registered }).toEqual({ fn: b.name, registered: 'function' });
      for (const forbidden of FORBIDDEN_PACKAGES) expect(loaded.filter((m) => m.includes(`/node_modules/${forbidden}/`))).toEqual([]);
    }
  });
});

describe('the bundle rules', () => {
  const meta = (inputs: string[], externals: string[]): Metafile => ({
    inputs: Object.fromEntries(inputs.map((i) => [i, { bytes: 1, imports: [] }])),
    outputs: { 'index.js': { bytes: 1, inputs: {}, imports: externals.map((path) => ({ path, kind: 'require-call', external: true })), exports: [] } },
  });
  const fn = { name: 'probe' };

  it('reject a bundle that pulls in local/ or shared/model/ code, or a forbidden package', () => {
    const m = meta(['functions/probe/index.ts', 'local/cli/main.ts', 'shared/model/onnx-runner.ts', 'node_modules/commander/index.js'], ['onnxruntime-node']);
    const manifest = shippedManifest(root, lock, fn, externalImports(m));
    expect(bundleViolations(m, manifest, root)).toEqual(['bundles local/cli/main.ts', 'bundles shared/model/onnx-runner.ts', 'ships commander', 'ships onnxruntime-node']);
  });

  it('reject a require of a package that is not a runtime dependency, and a dev or `node` entry', () => {
    const m = meta(['functions/probe/index.ts'], ['jest', 'node:fs', 'fs/promises']);
    expect(externalImports(m)).toEqual(['jest']);
    const manifest: PackageJson = { name: 'x', version: '1', dependencies: { node: '22.0.0' }, devDependencies: { jest: '1' } };
    expect(bundleViolations(m, manifest, root)).toEqual(['requires jest, which is not in package.json dependencies', 'package.json has devDependencies', 'package.json lists the `node` package']);
  });

  it('prune the lock to the listed packages and what they need, marking platform-only packages optional', () => {
    const manifest = shippedManifest(root, lock, fn, ['sharp']);
    const pruned = prunedLockfile(lock, manifest);
    expect(pruned.packages['node_modules/sharp']!.version).toBe(manifest.dependencies!.sharp);
    expect(pruned.packages['node_modules/onnxruntime-node']).toBeUndefined();
    expect(pruned.packages['node_modules/@google-cloud/firestore']).toBeUndefined();
    const platformBinaries = Object.entries(pruned.packages).filter(([p]) => p.startsWith('node_modules/@img/sharp-'));
    expect(platformBinaries.length).toBeGreaterThan(1);
    for (const [, entry] of platformBinaries) expect(entry.optional).toBe(true);
    expect(pruned.packages['node_modules/detect-libc'] ?? pruned.packages['node_modules/semver']).toBeDefined();
  });
});
