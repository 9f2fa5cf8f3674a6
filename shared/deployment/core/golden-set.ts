import { z } from 'zod';

/** One labeled image of a version's golden set. */
export interface GoldenItem {
  /** gs://bucket/object */
  uri: string;
  label: string;
}

const line = z.strictObject({ uri: z.string().regex(/^gs:\/\/[^/]+\/.+/, 'uri must be gs://bucket/object'), label: z.string().min(1) });

/**
 * golden.jsonl: one {"uri", "label"} per line (blank lines skipped). A relative uri is taken
 * inside the version folder. Any bad line fails the whole set, naming the line: a gate that
 * silently skipped images would judge on fewer than the user meant.
 */
export function parseGoldenJsonl(text: string, folderUri: string): { ok: true; items: GoldenItem[] } | { ok: false; reason: string } {
  const items: GoldenItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { ok: false, reason: `golden set line ${i + 1} is not JSON` };
    }
    if (json && typeof json === 'object' && typeof (json as { uri?: unknown }).uri === 'string' && !(json as { uri: string }).uri.startsWith('gs://')) {
      json = { ...json, uri: `${folderUri}${(json as { uri: string }).uri}` };
    }
    const r = line.safeParse(json);
    if (!r.success) return { ok: false, reason: `golden set line ${i + 1}: ${r.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}` };
    items.push(r.data);
  }
  if (items.length === 0) return { ok: false, reason: 'the golden set is empty' };
  return { ok: true, items };
}

/** A `<dir>/<label>/<file>` tree, from the paths under `dir` (relative to it). */
export function goldenFromTree(paths: readonly string[], dirUri: string): GoldenItem[] {
  return paths
    .map((p) => /^([^/]+)\/([^/]+)$/.exec(p))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ uri: `${dirUri}${m[0]}`, label: m[1]! }))
    .sort((a, b) => a.uri.localeCompare(b.uri));
}

export interface GoldenScore {
  /** images answered by this arm */
  answered: number;
  correct: number;
  accuracy: number;
}

export function scoreGolden(items: readonly GoldenItem[], answers: ReadonlyMap<string, string>): GoldenScore {
  let answered = 0;
  let correct = 0;
  for (const item of items) {
    const label = answers.get(item.uri);
    if (label === undefined) continue;
    answered++;
    if (label === item.label) correct++;
  }
  return { answered, correct, accuracy: answered ? correct / answered : 0 };
}

export interface GoldenVerdict {
  pass: boolean;
  images: number;
  canary: GoldenScore;
  stable: GoldenScore;
  calls: number;
  reason: string;
}

/**
 * The gate: every image answered by the canary, its accuracy at least minGoldenAccuracy and at
 * most maxGoldenAccuracyDrop below stable's (when stable answered any). A canary the calls never
 * reached on every image fails: it could not be judged, so it is not trusted with traffic.
 */
export function judgeGolden(
  policy: { minGoldenAccuracy: number; maxGoldenAccuracyDrop: number },
  items: readonly GoldenItem[],
  canary: GoldenScore,
  stable: GoldenScore,
  calls: number,
): GoldenVerdict {
  const base = { images: items.length, canary, stable, calls };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const figures = `canary ${canary.correct}/${canary.answered} (${pct(canary.accuracy)}), stable ${stable.correct}/${stable.answered} (${stable.answered ? pct(stable.accuracy) : '-'}) of ${items.length} golden images in ${calls} predict calls`;
  if (canary.answered < items.length) return { pass: false, ...base, reason: `golden gate: the canary answered only ${canary.answered} of ${items.length} images in ${calls} calls` };
  if (canary.accuracy < policy.minGoldenAccuracy) return { pass: false, ...base, reason: `golden gate failed: ${figures}; below minGoldenAccuracy ${policy.minGoldenAccuracy}` };
  if (stable.answered > 0 && canary.accuracy < stable.accuracy - policy.maxGoldenAccuracyDrop) {
    return { pass: false, ...base, reason: `golden gate failed: ${figures}; more than maxGoldenAccuracyDrop ${policy.maxGoldenAccuracyDrop} below stable` };
  }
  return { pass: true, ...base, reason: `golden gate passed: ${figures}` };
}
