import { errorRateTest, gTest, jensenShannonDistance, mean, percentile } from '#shared/deployment/core/canary-stats';

// Expected values computed independently (Python's math module: erfc for the normal tail,
// exp(-G/2) for chi-square with 2 degrees of freedom, erfc(sqrt(G/2)) for 1).
describe('canary statistics', () => {
  it('error rate: the Agresti-Caffo one-sided z-test with a margin', () => {
    const bad = errorRateTest({ errors: 20, n: 100 }, { errors: 0, n: 100 }, 0.02);
    expect(bad.canaryRate).toBe(0.2);
    expect(bad.stableRate).toBe(0);
    expect(bad.z).toBeCloseTo(4.272961943849361, 10);
    expect(bad.pValue).toBeCloseTo(9.644669419312527e-6, 9);
    const fine = errorRateTest({ errors: 2, n: 100 }, { errors: 1, n: 100 }, 0.02);
    expect(fine.z).toBeCloseTo(-0.471145698927313, 10);
    expect(fine.pValue).toBeCloseTo(0.6812316536273733, 6);
  });

  it('percentile is nearest-rank; mean is the mean', () => {
    expect(
      percentile(
        Array.from({ length: 20 }, (_, i) => 20 - i),
        0.95,
      ),
    ).toBe(19);
    expect(percentile([5, 1, 3], 0.5)).toBe(3);
    expect(percentile([7], 0.95)).toBe(7);
    expect(() => percentile([], 0.95)).toThrow(RangeError);
    expect(mean([1, 2, 3, 6])).toBe(3);
  });

  it('Jensen-Shannon distance (base 2): 0 for the same distribution, 1 for disjoint ones, counts normalised', () => {
    expect(jensenShannonDistance({ a: 5, b: 5 }, { a: 1, b: 1 })).toBe(0);
    expect(jensenShannonDistance({ a: 3 }, { b: 7 })).toBeCloseTo(1, 12);
    expect(jensenShannonDistance({ a: 3, b: 1 }, { a: 1, b: 3 })).toBeCloseTo(0.4344213111034807, 12);
    expect(jensenShannonDistance({ x: 30, y: 30, z: 40 }, { x: 50, y: 30, z: 20 })).toBeCloseTo(0.20673086033214083, 12);
  });

  it('G-test of homogeneity on the 2 x k table', () => {
    const two = gTest({ a: 10, b: 20 }, { a: 20, b: 10 });
    expect(two.df).toBe(1);
    expect(two.g).toBeCloseTo(6.79596147181589, 10);
    expect(two.pValue).toBeCloseTo(0.009136430620696662, 8);
    const three = gTest({ x: 30, y: 30, z: 40 }, { x: 50, y: 30, z: 20 });
    expect(three.df).toBe(2);
    expect(three.g).toBeCloseTo(11.849392256130013, 10);
    expect(three.pValue).toBeCloseTo(0.002672619695938071, 8);
    // a label only one arm produced is a column; one present in neither is not
    expect(gTest({ a: 4, b: 0 }, { a: 4 }).df).toBe(0);
    expect(gTest({ a: 4 }, { a: 4 }).pValue).toBe(1);
  });
});
