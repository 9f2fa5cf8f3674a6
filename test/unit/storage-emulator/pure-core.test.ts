import { listObjects } from '#local/storage-emulator/list-objects';
import { checkPreconditions } from '#local/storage-emulator/preconditions';
import { parseRange, parseUploadRange } from '#local/storage-emulator/byte-range';
import { nextRedeliveryDelay } from '#local/storage-emulator/redelivery-policy';
import { GenerationClock } from '#local/storage-emulator/generation-clock';
import { isPlainName } from '#local/storage-emulator/data-layout';

describe('listObjects', () => {
  const names = ['a/1', 'a/2', 'a/b/3', 'b', 'c/4', 'c/5'];

  it('folds names under the delimiter into prefixes, once', () => {
    expect(listObjects(names, { delimiter: '/' })).toEqual({ names: ['b'], prefixes: ['a/', 'c/'] });
    expect(listObjects(names, { prefix: 'a/', delimiter: '/' })).toEqual({ names: ['a/1', 'a/2'], prefixes: ['a/b/'] });
  });

  it('pages items and prefixes together without repeating a prefix', () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = listObjects(names, { delimiter: '/', maxResults: 1, pageToken: token });
      seen.push(...page.prefixes, ...page.names);
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual(['a/', 'b', 'c/']);
  });
});

describe('checkPreconditions', () => {
  const live = { generation: '100', metageneration: '2' };
  it('treats ifGenerationMatch=0 as "does not exist yet"', () => {
    expect(() => checkPreconditions({ ifGenerationMatch: '0' }, undefined)).not.toThrow();
    expect(() => checkPreconditions({ ifGenerationMatch: '0' }, live)).toThrow(expect.objectContaining({ status: 412 }));
  });
  it('fails mismatches with 412 on writes and 304 for NotMatch on reads', () => {
    expect(() => checkPreconditions({ ifGenerationMatch: '99' }, live)).toThrow(expect.objectContaining({ status: 412 }));
    expect(() => checkPreconditions({ ifMetagenerationMatch: '2' }, live)).not.toThrow();
    expect(() => checkPreconditions({ ifGenerationNotMatch: '100' }, live, 'read')).toThrow(expect.objectContaining({ status: 304 }));
    expect(() => checkPreconditions({ ifGenerationNotMatch: '100' }, live)).toThrow(expect.objectContaining({ status: 412 }));
  });
});

describe('ranges', () => {
  it('parses download ranges like Cloud Storage', () => {
    expect(parseRange('bytes=2-4', 10)).toEqual({ start: 2, end: 4 });
    expect(parseRange('bytes=8-', 10)).toEqual({ start: 8, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseRange(undefined, 10)).toBeUndefined();
  });
  it('parses resumable Content-Range forms', () => {
    expect(parseUploadRange('bytes */*')).toEqual({ kind: 'query', total: undefined });
    expect(parseUploadRange('bytes 0-99/*')).toEqual({ kind: 'data', start: 0, end: 99, total: undefined });
    expect(parseUploadRange('bytes 100-*/250')).toEqual({ kind: 'data', start: 100, end: undefined, total: 250 });
  });
});

it('redelivery backs off on the shared policy and stops at the attempts and the age', () => {
  const policy = { maxAttempts: 5, maxAgeMs: 10_000, initialDelayMs: 100, maxDelayMs: 1_000 };
  expect(nextRedeliveryDelay(1, 0, 0, policy, () => 0.5)).toBe(50);
  expect(nextRedeliveryDelay(3, 0, 0, policy, () => 0.999)).toBe(399);
  expect(nextRedeliveryDelay(4, 0, 0, policy, () => 0.999)).toBe(799);
  expect(nextRedeliveryDelay(5, 0, 0, policy, () => 0)).toBeUndefined();
  expect(nextRedeliveryDelay(1, 0, 9_890, policy, () => 0.999)).toBe(99);
  expect(nextRedeliveryDelay(1, 0, 9_990, policy, () => 0.999)).toBeUndefined();
});

it('generations increase strictly even within one millisecond and after a loaded one', () => {
  const clock = new GenerationClock();
  const gens = Array.from({ length: 100 }, () => BigInt(clock.next()));
  for (let i = 1; i < gens.length; i++) expect(gens[i]! > gens[i - 1]!).toBe(true);
  // A generation loaded from disk, 10 s ahead of this clock: the next one must pass it.
  const loaded = Date.now() * 1000 + 10_000_000;
  clock.observe(String(loaded));
  expect(BigInt(clock.next())).toBeGreaterThan(BigInt(loaded));
});

it('isPlainName rejects names that cannot be plain paths', () => {
  expect(isPlainName('models/m/v1/saved_model.pb')).toBe(true);
  for (const n of ['dir/', '/abs', 'a//b', 'a/../b', 'x'.repeat(256)]) expect(isPlainName(n)).toBe(false);
});
