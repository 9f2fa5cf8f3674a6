import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDataDir } from '#local/stack/data-dir';
import { findRunningStack, readStackFileIfAny, removeStackFile, stackFilePath, writeStackFile, type StackInfo } from '#local/stack/stack-file';

const info = (dataDir: string, controlUrl: string, pid = process.pid): StackInfo => ({
  pid,
  processGroups: [],
  startedAt: 'a',
  readyAt: 'b',
  dataDir,
  project: 'demo-dropship',
  region: 'us-central1',
  controlUrl,
  pubsubEmulatorHost: '127.0.0.1:1',
  firestoreEmulatorHost: '127.0.0.1:2',
  storage: { url: 'http://127.0.0.1:3', dataDir },
  vertex: { endpoint: '127.0.0.1:4' },
  buckets: { models: 'm', images: 'i' },
  topics: {},
  functions: {},
});

describe('finding the running stack', () => {
  let dir: string;
  let server: Server;
  let pingPid = process.pid;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end(JSON.stringify({ pid: pingPid })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dropship-stackfile-'));
    pingPid = process.pid;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('the data folder is --data, else DROPSHIP_DATA, else ./.dropship', () => {
    expect(resolveDataDir('x', { DROPSHIP_DATA: '/env' }, '/cwd')).toBe('/cwd/x');
    expect(resolveDataDir(undefined, { DROPSHIP_DATA: '/env' }, '/cwd')).toBe('/env');
    expect(resolveDataDir(undefined, {}, '/cwd')).toBe('/cwd/.dropship');
  });

  test('a live stack is found through stack.json and its ping', async () => {
    writeStackFile(info(dir, url));
    await expect(findRunningStack(dir)).resolves.toMatchObject({ pid: process.pid, controlUrl: url });
  });

  test('no stack.json, a dead pid, a pid answered by someone else, or garbage: not running', async () => {
    await expect(findRunningStack(dir)).rejects.toThrow('the local stack is not running: start it with `npx dropship up` (no stack.json');
    writeStackFile(info(dir, url, 4194305));
    await expect(findRunningStack(dir)).rejects.toThrow('process 4194305 is gone');
    writeStackFile(info(dir, url));
    pingPid = 1;
    await expect(findRunningStack(dir)).rejects.toThrow('does not answer');
    writeFileSync(stackFilePath(dir), '{"pid":');
    expect(readStackFileIfAny(dir)).toBeUndefined();
  });

  test('a stopping stack removes only its own stack.json', () => {
    writeStackFile(info(dir, url, 12345));
    removeStackFile(dir, process.pid);
    expect(readStackFileIfAny(dir)?.pid).toBe(12345);
    removeStackFile(dir, 12345);
    expect(readStackFileIfAny(dir)).toBeUndefined();
  });
});
