import { ALLOWED, IllegalTransitionError, initialHistory, transition, VERSION_STATES } from '#shared/deployment/core/state-machine';

describe('version state machine', () => {
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

  it('refuses moves the diagram does not allow', () => {
    // Prepare
    const illegal = VERSION_STATES.flatMap((from) => VERSION_STATES.filter((to) => !ALLOWED[from].includes(to)).map((to) => [from, to] as const));
    // Act / Assess
    expect(illegal).toContainEqual(['FAILED', 'DEPLOYING']);
    expect(illegal).toContainEqual(['PENDING', 'DEPLOYED']);
    for (const [from, to] of illegal) expect(() => transition([], from, to, new Date())).toThrow(IllegalTransitionError);
  });
});
