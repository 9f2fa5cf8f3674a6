import { IllegalTransitionError, canTransition, initialHistory, transition, VERSION_STATES, type VersionState } from '#shared/deployment/core/state-machine';

/**
 * The legal moves, written out from the diagram in docs/deployment.md (and the states table in
 * the README), not read from the table under test: a move added to or dropped from ALLOWED by
 * mistake fails here.
 */
const EXPECTED_LEGAL: readonly (readonly [VersionState, VersionState])[] = [
  ['PENDING', 'VALIDATING'],
  ['VALIDATING', 'REGISTERING'],
  ['REGISTERING', 'DEPLOYING'],
  ['DEPLOYING', 'DEPLOYED'],
  ['PENDING', 'FAILED'],
  ['VALIDATING', 'FAILED'],
  ['REGISTERING', 'FAILED'],
  ['DEPLOYING', 'FAILED'],
  ['DEPLOYED', 'SUPERSEDED'],
  ['DEPLOYED', 'UNDEPLOYED'],
  ['SUPERSEDED', 'DEPLOYING'],
  ['UNDEPLOYED', 'DEPLOYING'],
  ['DEPLOYED', 'CANARY_ANALYSIS'],
  ['CANARY_ANALYSIS', 'DEPLOYED'],
  ['CANARY_ANALYSIS', 'ROLLED_BACK'],
  ['CANARY_ANALYSIS', 'UNDEPLOYED'],
  ['CANARY_ANALYSIS', 'SUPERSEDED'],
  ['ROLLED_BACK', 'DEPLOYING'],
];

const EXPECTED_STATES: readonly VersionState[] = ['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED', 'FAILED', 'SUPERSEDED', 'UNDEPLOYED', 'CANARY_ANALYSIS', 'ROLLED_BACK'];

const isExpectedLegal = (from: VersionState, to: VersionState) => EXPECTED_LEGAL.some(([f, t]) => f === from && t === to);

describe('version state machine', () => {
  it('has exactly the documented states', () => {
    expect([...VERSION_STATES].sort()).toEqual([...EXPECTED_STATES].sort());
  });

  it('allows exactly the documented moves, checked for every pair of states', () => {
    // Prepare
    const pairs = EXPECTED_STATES.flatMap((from) => EXPECTED_STATES.map((to) => [from, to] as const));
    // Act
    const actual = pairs.map(([from, to]) => {
      let legal: boolean;
      try {
        transition([], from, to, new Date(0));
        legal = true;
      } catch (e) {
        expect(e).toBeInstanceOf(IllegalTransitionError);
        legal = false;
      }
      return { from, to, legal, canTransition: canTransition(from, to) };
    });
    // Assess: one list so a failure names every wrong pair at once
    expect(actual).toEqual(pairs.map(([from, to]) => ({ from, to, legal: isExpectedLegal(from, to), canTransition: isExpectedLegal(from, to) })));
    expect(actual.filter((a) => a.legal)).toHaveLength(EXPECTED_LEGAL.length);
  });

  it('walks the happy path with a timestamped history', () => {
    // Prepare
    let history = initialHistory(new Date('2025-01-01T00:00:00Z'));
    const path = ['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED', 'SUPERSEDED'] as const;
    // Act
    for (let i = 1; i < path.length; i++) history = transition(history, path[i - 1]!, path[i]!, new Date(Date.UTC(2025, 0, 1, 0, i)));
    // Assess
    expect(history.map((h) => h.to)).toEqual([...path]);
    expect(history[3]).toEqual({ from: 'REGISTERING', to: 'DEPLOYING', at: '2025-01-01T00:03:00.000Z' });
  });

  it('lets every in-progress state fail, with its reason', () => {
    for (const from of ['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING'] as const) {
      // Act
      const [, last] = transition(initialHistory(new Date(0)), from, 'FAILED', new Date(1), 'because');
      // Assess
      expect(last).toMatchObject({ from, to: 'FAILED', reason: 'because' });
    }
  });

  it('refuses moves the diagram does not allow, leaving the history as it was', () => {
    // Prepare
    const history = initialHistory(new Date(0));
    const illegal = EXPECTED_STATES.flatMap((from) => EXPECTED_STATES.filter((to) => !isExpectedLegal(from, to)).map((to) => [from, to] as const));
    // Act / Assess
    expect(illegal).toContainEqual(['FAILED', 'DEPLOYING']);
    expect(illegal).toContainEqual(['PENDING', 'DEPLOYED']);
    expect(illegal).toHaveLength(EXPECTED_STATES.length ** 2 - EXPECTED_LEGAL.length);
    for (const [from, to] of illegal) expect(() => transition(history, from, to, new Date())).toThrow(new IllegalTransitionError(from, to));
    expect(history).toEqual([{ from: null, to: 'PENDING', at: '1970-01-01T00:00:00.000Z' }]);
  });
});
