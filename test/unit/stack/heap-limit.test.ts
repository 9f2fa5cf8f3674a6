import { execFileSync } from 'node:child_process';
import { heapLimitArgs, heapLimitMiB, memoryMiB } from '#local/stack/heap-limit';
import { TOPOLOGY } from '#shared/topology';

describe("a function process's heap limit", () => {
  test("is V8's for the instance's memory: half of it, at least 256 MiB, at most 4 GiB", () => {
    expect([heapLimitMiB('128Mi'), heapLimitMiB('256Mi'), heapLimitMiB('512Mi'), heapLimitMiB('1Gi'), heapLimitMiB('2Gi'), heapLimitMiB('8Gi'), heapLimitMiB('32Gi')]).toEqual([
      256, 256, 256, 512, 1024, 4096, 4096,
    ]);
  });

  test('reads the memory sizes Cloud Functions takes, and refuses others', () => {
    expect([memoryMiB('512Mi'), memoryMiB('1Gi'), memoryMiB('1.5Gi')]).toEqual([512, 1024, 1536]);
    expect(memoryMiB('1G')).toBeCloseTo(953.67, 1);
    expect(() => memoryMiB('512')).toThrow('unrecognized memory size "512"');
    expect(() => memoryMiB('1TB')).toThrow('unrecognized memory size');
  });

  test('a process shared by several functions gets the largest of their limits, and every TOPOLOGY memory is understood', () => {
    expect(heapLimitArgs(TOPOLOGY.functions)).toEqual([`--max-old-space-size=${Math.max(...TOPOLOGY.functions.map((f) => heapLimitMiB(f.memory)))}`]);
    const intake = TOPOLOGY.functions.find((f) => f.name === 'image-intake')!;
    expect(heapLimitArgs([intake])).toEqual(['--max-old-space-size=256']);
    expect(() => heapLimitArgs([])).toThrow('at least one function');
  });

  test('is the limit node really runs with', () => {
    const intake = TOPOLOGY.functions.find((f) => f.name === 'image-intake')!;
    const out = execFileSync(process.execPath, [...heapLimitArgs([intake]), '-e', "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit / 2 ** 20))"], { encoding: 'utf8' });
    // heap_size_limit is old space plus the young generation (48 MiB here)
    expect(Number(out)).toBeGreaterThanOrEqual(256);
    expect(Number(out)).toBeLessThan(256 + 64);
  });
});
