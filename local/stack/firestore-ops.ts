import type { FirestoreOpCounts } from '#local/emulators/firestore-op-counter';
import type { StackInfo } from './stack-file';
/** The functions' Firestore calls, billed document reads and writes so far (a stack started with countFirestoreOps). */
export async function firestoreOps(stack: StackInfo): Promise<FirestoreOpCounts> {
  const res = await fetch(new URL('firestore-ops', stack.controlUrl));
  if (!res.ok) throw new Error(`GET firestore-ops: HTTP ${res.status} (was the stack started with --count-firestore-ops?)`);
  return (await res.json()) as FirestoreOpCounts;
}

/** what the functions did between two samples, per image: reads, writes and the calls by method */
export function firestoreOpsPerImage(a: FirestoreOpCounts, b: FirestoreOpCounts, images: number): { reads: number; writes: number; calls: Record<string, number>; text: string } {
  const calls: Record<string, number> = {};
  for (const [m, n] of Object.entries(b.calls)) {
    const d = n - (a.calls[m] ?? 0);
    if (d > 0) calls[m] = d / images;
  }
  const reads = (b.reads - a.reads) / images;
  const writes = (b.writes - a.writes) / images;
  const byMethod = Object.entries(calls)
    .sort((x, y) => y[1] - x[1])
    .map(([m, n]) => `${m} ${n.toFixed(3)}`)
    .join(', ');
  return { reads, writes, calls, text: `Firestore ${reads.toFixed(2)} document reads + ${writes.toFixed(2)} writes per image (calls per image: ${byMethod})` };
}
