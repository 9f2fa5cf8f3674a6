/**
 * Traffic splits as Vertex AI keeps them: deployedModelId -> percent, summing to 100.
 * In a DeployModel request the key "0" stands for the model being deployed.
 */
export type TrafficSplit = Record<string, number>;

export const NEW_DEPLOYMENT = '0';

/** `replace`: the new deployment takes everything; the others drop to 0 and are undeployed later. */
export function replaceSplit(): TrafficSplit {
  return { [NEW_DEPLOYMENT]: 100 };
}

/**
 * `canary:p`: the new deployment gets p%, the current ones share the rest in their current
 * proportions. With nothing serving yet there is nothing to compare against: 100%.
 */
export function canarySplit(current: TrafficSplit, percent: number): TrafficSplit {
  if (!Number.isInteger(percent) || percent < 1 || percent > 99) throw new RangeError(`canary percent must be 1-99, got ${percent}`);
  const serving = Object.entries(current).filter(([, p]) => p > 0);
  if (serving.length === 0) return { [NEW_DEPLOYMENT]: 100 };
  const scaled = scaleTo(Object.fromEntries(serving), 100 - percent);
  return { ...scaled, [NEW_DEPLOYMENT]: percent };
}

/** promote: one deployment takes 100%; every other key present drops to 0. */
export function promoteSplit(current: TrafficSplit, deployedModelId: string): TrafficSplit {
  const out: TrafficSplit = {};
  for (const id of Object.keys(current)) out[id] = 0;
  out[deployedModelId] = 100;
  return out;
}

/**
 * Scales percentages to sum to `total` using the largest-remainder method, so rounding never
 * loses or invents a percent.
 */
export function scaleTo(split: TrafficSplit, total: number): TrafficSplit {
  const entries = Object.entries(split);
  const sum = entries.reduce((s, [, p]) => s + p, 0);
  if (sum === 0) throw new RangeError('cannot scale an empty split');
  const raw = entries.map(([id, p]) => ({ id, exact: (p * total) / sum }));
  const floors = raw.map((r) => ({ id: r.id, value: Math.floor(r.exact), rem: r.exact - Math.floor(r.exact) }));
  let left = total - floors.reduce((s, f) => s + f.value, 0);
  for (const f of [...floors].sort((a, b) => b.rem - a.rem || a.id.localeCompare(b.id))) {
    if (left <= 0) break;
    f.value += 1;
    left -= 1;
  }
  return Object.fromEntries(floors.map((f) => [f.id, f.value]));
}

/** Drops zero entries: what a caller shows and what a rollback should restore. */
export function nonZero(split: TrafficSplit): TrafficSplit {
  return Object.fromEntries(Object.entries(split).filter(([, p]) => p > 0));
}

export function assertValidSplit(split: TrafficSplit): void {
  const values = Object.values(split);
  if (values.some((p) => !Number.isInteger(p) || p < 0 || p > 100)) throw new RangeError(`traffic percents must be integers 0-100: ${JSON.stringify(split)}`);
  const sum = values.reduce((s, p) => s + p, 0);
  if (values.length > 0 && sum !== 100) throw new RangeError(`traffic must sum to 100, got ${sum}: ${JSON.stringify(split)}`);
}

/**
 * The split that rolls back to `previous` (version -> percent, as recorded before a change),
 * expressed over the deployed model ids now on the endpoint. Versions no longer deployed are
 * reported in `missing`: they must be deployed again with their share.
 */
export function rollbackPlan(previous: Record<string, number>, deployedIdByVersion: Record<string, string>): { split: TrafficSplit; missing: Array<{ version: string; percent: number }> } {
  const target = nonZero(previous);
  if (Object.keys(target).length === 0) throw new RangeError('no earlier traffic split to restore');
  const split: TrafficSplit = {};
  const missing: Array<{ version: string; percent: number }> = [];
  for (const [version, percent] of Object.entries(target)) {
    const id = deployedIdByVersion[version];
    if (id) split[id] = percent;
    else missing.push({ version, percent });
  }
  for (const id of Object.values(deployedIdByVersion)) if (!(id in split)) split[id] = 0;
  return { split, missing };
}
