/**
 * Whether a version folder holds a whole SavedModel, judged from its listing alone.
 * Files arrive in any order, each with its own event; every event re-asks this question.
 */
export interface CompletenessRule {
  /** wait for an explicit `_COMPLETE` marker instead of inferring completeness */
  requireMarker: boolean;
}

export type Completeness = { complete: true } | { complete: false; missing: string[] };

export const MARKER = '_COMPLETE';
const SHARD = /^variables\/variables\.data-(\d{5})-of-(\d{5})$/;

/** `files` are paths relative to the version folder, e.g. `variables/variables.index`. */
export function decideCompleteness(files: readonly string[], rule: CompletenessRule): Completeness {
  const present = new Set(files);
  if (rule.requireMarker) {
    return present.has(MARKER) ? { complete: true } : { complete: false, missing: [MARKER] };
  }
  const missing: string[] = [];
  if (!present.has('saved_model.pb')) missing.push('saved_model.pb');
  if (!present.has('variables/variables.index')) missing.push('variables/variables.index');
  const shards = files.map((f) => SHARD.exec(f)).filter((m): m is RegExpExecArray => m !== null);
  if (shards.length === 0) {
    missing.push('variables/variables.data-00000-of-NNNNN');
  } else {
    // Shards announce their total; disagreeing totals mean a mixed upload: wait for the largest.
    const total = Math.max(...shards.map((m) => Number(m[2])));
    for (let i = 0; i < total; i++) {
      const name = `variables/variables.data-${String(i).padStart(5, '0')}-of-${String(total).padStart(5, '0')}`;
      if (!present.has(name)) missing.push(name);
    }
  }
  return missing.length === 0 ? { complete: true } : { complete: false, missing };
}
