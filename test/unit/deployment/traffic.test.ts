import { assertValidSplit, canarySplit, promoteSplit, replaceSplit, rollbackPlan, scaleTo } from '#shared/deployment/core/traffic';

describe('traffic splits', () => {
  it('replace gives the new deployment everything', () => {
    expect(replaceSplit()).toEqual({ '0': 100 });
  });

  it('canary takes its share and scales the rest proportionally, summing to 100', () => {
    // Act
    const single = canarySplit({ a: 100 }, 10);
    const two = canarySplit({ a: 50, b: 50, c: 0 }, 15);
    // Assess
    expect(single).toEqual({ a: 90, '0': 10 });
    expect(two).toEqual({ a: 43, b: 42, '0': 15 });
    assertValidSplit(two);
  });

  it('a canary on an empty endpoint serves everything', () => {
    expect(canarySplit({}, 10)).toEqual({ '0': 100 });
  });

  it('promote moves everything to one id', () => {
    expect(promoteSplit({ a: 90, b: 10 }, 'b')).toEqual({ a: 0, b: 100 });
  });

  it('scaleTo never loses a percent to rounding', () => {
    // Act
    const scaled = scaleTo({ a: 1, b: 1, c: 1 }, 100);
    // Assess
    expect(Object.values(scaled).reduce((s, p) => s + p, 0)).toBe(100);
  });

  it('rollback maps the earlier split onto deployed ids and reports versions to redeploy', () => {
    // Act
    const plan = rollbackPlan({ v1: 90, v2: 10 }, { v2: '222' });
    // Assess
    expect(plan).toEqual({ split: { '222': 10 }, missing: [{ version: 'v1', percent: 90 }] });
  });

  it('rollback zeroes deployed versions outside the earlier split', () => {
    expect(rollbackPlan({ v1: 100 }, { v1: '111', v2: '222' })).toEqual({ split: { '111': 100, '222': 0 }, missing: [] });
  });

  it('rejects splits that do not sum to 100', () => {
    expect(() => assertValidSplit({ a: 50, b: 40 })).toThrow('sum to 100');
  });
});
