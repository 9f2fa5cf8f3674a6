import type { FunctionSpec } from '#shared/topology';

/**
 * The V8 heap limit a function's instance runs with on Google Cloud. The runtime sets none
 * (Google's Node.js runtime page says to put --max-old-space-size in NODE_OPTIONS yourself),
 * so Node sizes the heap from the instance's memory limit, which it reads from the cgroup
 * (uv_get_constrained_memory), with V8's rule for 64-bit heaps without pointer compression:
 * old space = memory / 4 x 2, at least 256 MiB and at most 4 GiB (Heap::HeapSizeFromPhysicalMemory,
 * kPhysicalMemoryToOldGenerationRatio = 4, kHeapLimitMultiplier = 2, V8HeapTrait::kMinSize,
 * MaxOldGenerationSize).
 * The local stack's processes get the same limit: without it Node sizes their heap from this
 * machine's memory (4 GiB of old space here) and collects so lazily that native memory held
 * by garbage (sharp's images) piles up far past what a 512 MiB instance could hold.
 */
export function heapLimitMiB(memory: string): number {
  return Math.min(4096, Math.max(256, Math.floor(memoryMiB(memory) / 2)));
}

/** Cloud Functions memory ('256Mi', '1Gi', '512M', '2G') in MiB */
export function memoryMiB(memory: string): number {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$/.exec(memory);
  if (!m) throw new Error(`unrecognized memory size ${JSON.stringify(memory)} (expected e.g. 512Mi or 1Gi)`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'Gi':
      return n * 1024;
    case 'G':
      return (n * 1000 ** 3) / 1024 ** 2;
    case 'M':
      return (n * 1000 ** 2) / 1024 ** 2;
    default:
      return n;
  }
}

/** node's flag for a process serving `group`: the largest limit of its functions (a shared process stands in for several instances) */
export function heapLimitArgs(group: readonly FunctionSpec[]): string[] {
  if (group.length === 0) throw new Error('a function process serves at least one function');
  const mib = Math.max(...group.map((f) => heapLimitMiB(f.memory)));
  return [`--max-old-space-size=${mib}`];
}
