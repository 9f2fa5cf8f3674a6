import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '#local/cli/cli-errors';
import { deployVerdict } from '#local/cli/follow-version';
import { planUploads } from '#local/cli/label';
import type { VersionRecord } from '#shared/deployment/core/records';

describe('what label uploads', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dropship-plan-'));
    mkdirSync(join(dir, 'set', 'cats'), { recursive: true });
    writeFileSync(join(dir, 'set', 'a.png'), 'x');
    writeFileSync(join(dir, 'set', 'cats', 'b.jpg'), 'xy');
    writeFileSync(join(dir, 'set', '.DS_Store'), '');
    writeFileSync(join(dir, 'a.png'), 'z');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('folders keep their sub-folders under <job>/, hidden files are skipped', () => {
    const plan = planUploads([join(dir, 'set')], { job: 'j1' });
    expect(plan.map((p) => p.name)).toEqual(['j1/a.png', 'j1/cats/b.jpg']);
  });

  test('two files that would land on the same name are refused', () => {
    expect(() => planUploads([join(dir, 'set'), join(dir, 'a.png')], { job: 'j1' })).toThrow(UsageError);
  });

  test('bad job and model names are usage errors', () => {
    expect(() => planUploads([dir], { job: '../x' })).toThrow("--job '../x' is not a job name");
    expect(() => planUploads([dir], { job: 'j', model: 'Cats' })).toThrow("--model 'Cats' is not a model name");
  });
});

describe('when following a deployment is over', () => {
  const rec = (state: VersionRecord['state'], seen: VersionRecord['state'][] = []) => ({ state, history: seen.map((to) => ({ from: null, to, at: '' })) }) as unknown as VersionRecord;
  test('DEPLOYED is done, FAILED is failed, in-progress states are not over', () => {
    expect(deployVerdict(rec('DEPLOYED'))).toBe('done');
    expect(deployVerdict(rec('FAILED'))).toBe('failed');
    expect(deployVerdict(rec('DEPLOYING'))).toBeUndefined();
  });
  test('superseded after being deployed counts as deployed; never deployed does not', () => {
    expect(deployVerdict(rec('SUPERSEDED', ['PENDING', 'DEPLOYED', 'SUPERSEDED']))).toBe('done');
    expect(deployVerdict(rec('UNDEPLOYED', ['PENDING']))).toBeUndefined();
  });
});
