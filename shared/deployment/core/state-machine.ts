/**
 * The deployment state machine of one model version. Every state change goes through
 * `transition`, which refuses moves the diagram does not allow and appends to the history.
 *
 *   PENDING -> VALIDATING -> REGISTERING -> DEPLOYING -> DEPLOYED -> SUPERSEDED | UNDEPLOYED
 *   (any state before DEPLOYED) -> FAILED;  SUPERSEDED | UNDEPLOYED | ROLLED_BACK -> DEPLOYING (rollback)
 *   DEPLOYED -> CANARY_ANALYSIS (a canary with a rollout policy) -> DEPLOYED (promoted) | ROLLED_BACK
 *   (the analysis took its traffic away) | SUPERSEDED | UNDEPLOYED (a person moved traffic)
 */
export const VERSION_STATES = ['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED', 'FAILED', 'SUPERSEDED', 'UNDEPLOYED', 'CANARY_ANALYSIS', 'ROLLED_BACK'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export const ALLOWED: Readonly<Record<VersionState, readonly VersionState[]>> = {
  PENDING: ['VALIDATING', 'FAILED'],
  VALIDATING: ['REGISTERING', 'FAILED'],
  REGISTERING: ['DEPLOYING', 'FAILED'],
  DEPLOYING: ['DEPLOYED', 'FAILED'],
  DEPLOYED: ['SUPERSEDED', 'UNDEPLOYED', 'CANARY_ANALYSIS'],
  FAILED: [],
  SUPERSEDED: ['DEPLOYING'],
  UNDEPLOYED: ['DEPLOYING'],
  CANARY_ANALYSIS: ['DEPLOYED', 'ROLLED_BACK', 'SUPERSEDED', 'UNDEPLOYED'],
  ROLLED_BACK: ['DEPLOYING'],
};

/** States a version waits in while work (ours or Vertex's) is under way. */
export const IN_PROGRESS: readonly VersionState[] = ['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING'];

export interface HistoryEntry {
  from: VersionState | null;
  to: VersionState;
  at: string;
  reason?: string;
}

export interface Transition {
  from: VersionState;
  to: VersionState;
  at: string;
  reason?: string;
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: VersionState,
    readonly to: VersionState,
  ) {
    super(`a version cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: VersionState, to: VersionState): boolean {
  return ALLOWED[from].includes(to);
}

/** The history after moving `from` -> `to` at `at`; throws IllegalTransitionError otherwise. */
export function transition(history: readonly HistoryEntry[], from: VersionState, to: VersionState, at: Date, reason?: string): HistoryEntry[] {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return [...history, { from, to, at: at.toISOString(), ...(reason !== undefined ? { reason } : {}) }];
}

export function initialHistory(at: Date): HistoryEntry[] {
  return [{ from: null, to: 'PENDING', at: at.toISOString() }];
}

export function isInProgress(state: VersionState): boolean {
  return IN_PROGRESS.includes(state);
}

/** States in which a version is on its endpoint and may take traffic (a canary under analysis serves its share). */
export const SERVING: readonly VersionState[] = ['DEPLOYED', 'CANARY_ANALYSIS'];

export function isServing(state: VersionState): boolean {
  return SERVING.includes(state);
}

/** What the reconciler looks at every tick: work in progress, and canaries being judged. */
export const RECONCILED: readonly VersionState[] = [...IN_PROGRESS, 'CANARY_ANALYSIS'];
