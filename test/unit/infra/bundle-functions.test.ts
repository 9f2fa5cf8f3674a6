import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPOLOGY } from '#shared/topology';
import { prunedLockfile, shippedManifest, type PackageJson, type PackageLock } from '../../../terraform/scripts/bundle-functions';
import { REPO_ROOT } from './source-scan';

const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as PackageLock;

describe('the function bundles terraform ships', () => {
  it('carry no devDependencies (not the `node` binary package) and no scripts the buildpack would run', () => {
    for (const fn of TOPOLOGY.functions) {
      const m = shippedManifest(root, fn);
      expect(m.devDependencies).toBeUndefined();
      expect(m.scripts).toBeUndefined();
      expect(m.main).toBe(`dist/functions/${fn.source}/index.js`);
      expect(m.dependencies).toEqual(root.dependencies);
      expect(JSON.stringify(m.imports)).not.toMatch(/source|\.ts"/);
    }
  });

  it('ship a lock without dev-only packages whose root matches the shipped manifest (what npm ci checks)', () => {
    const m = shippedManifest(root, TOPOLOGY.functions[0]!);
    const pruned = prunedLockfile(lock, m);
    expect(pruned.packages['node_modules/node']).toBeUndefined();
    expect(pruned.packages['node_modules/jest']).toBeUndefined();
    expect(Object.values(pruned.packages).some((p) => p.dev)).toBe(false);
    expect(pruned.packages['']!.dependencies).toEqual(m.dependencies);
    expect(pruned.packages['']!.devDependencies).toBeUndefined();
    for (const dep of Object.keys(root.dependencies ?? {})) expect(pruned.packages[`node_modules/${dep}`]).toBeDefined();
  });
});
