import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '#shared/logging/logger';
import { FolderWatcher } from '#local/storage-emulator/folder-watcher';
import { ObjectStore, type StoreEvent } from '#local/storage-emulator/object-store';

/**
 * The folder watcher on a real directory: a rescan that marks thousands of files dirty in one
 * go runs one drain, not one drain call per file (each of which used to poll the event loop
 * until the running drain ended: at 60,000 objects in a bucket, uploads slowed from 280/s to
 * 50/s and the process spent 60% of its time in GC). Counted, not timed: the immediates the
 * watcher schedules while marking, and the files it registers, each exactly once.
 */
const FILES = 3000;
const BUCKET = 'drain-bkt';

let root: string;
let store: ObjectStore;
let watcher: FolderWatcher;
const finalized: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dropship-watcher-drain-'));
  store = await ObjectStore.open(root, (e: StoreEvent) => {
    if (e.type === 'google.cloud.storage.object.v1.finalized') finalized.push(e.record.name);
  });
  await store.createBucket(BUCKET, {});
  const dir = join(root, BUCKET, 'job');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `f-${i}.png`), `file ${i}`);
  // settleMs 0: a file counts at its second look; rescans only when asked
  watcher = new FolderWatcher(store, { settleMs: 0, rescanMs: 3_600_000, fullRescanMs: 3_600_000, logger: createLogger({ component: 'test', minSeverity: 'ERROR' }) });
});

afterAll(() => {
  watcher.stop();
  rmSync(root, { recursive: true, force: true });
});

test(`a scan of ${FILES} files schedules one drain, and registers each file once`, async () => {
  const spy = jest.spyOn(global, 'setImmediate');
  try {
    await watcher.start(); // watches the root and rescans: every file is marked dirty
    const scheduledByMarking = spy.mock.calls.length;
    // before the fix: one per file marked (3,000 and more); now the drain's own turns only
    expect(scheduledByMarking).toBeLessThan(FILES / 10);
  } finally {
    spy.mockRestore();
  }
  const until = Date.now() + 60_000;
  while ((finalized.length < FILES || watcher.busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(finalized).toHaveLength(FILES);
  expect(new Set(finalized).size).toBe(FILES);
});

test('a path marked while a drain runs is drained by it, and a second rescan finds nothing new', async () => {
  const extra = join(root, BUCKET, 'job', 'late.png');
  writeFileSync(extra, 'late');
  await watcher.rescan();
  const until = Date.now() + 30_000;
  while ((!finalized.includes('job/late.png') || watcher.busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(finalized.filter((n) => n === 'job/late.png')).toHaveLength(1);
  const before = finalized.length;
  await watcher.rescan();
  while (watcher.busy) await new Promise((r) => setTimeout(r, 20));
  expect(finalized).toHaveLength(before);
});
