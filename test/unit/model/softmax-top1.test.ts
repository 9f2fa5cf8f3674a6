import { softmaxTop1 } from '#local/model/softmax-top1';

describe('softmax top-1', () => {
  test('picks the arg max and its full softmax probability', () => {
    const logits = Float32Array.of(1, 3, 2, /* row 2 */ 0.5, -1, 0.25);
    const labels = ['a', 'b', 'c'];
    const direct = (row: number[]) => {
      const e = row.map(Math.exp);
      const total = e.reduce((x, y) => x + y, 0);
      return e.map((v) => v / total);
    };
    expect(softmaxTop1(logits, 0, 3, labels)).toEqual({ label: 'b', confidence: expect.closeTo(direct([1, 3, 2])[1], 12) });
    expect(softmaxTop1(logits, 1, 3, labels)).toEqual({ label: 'a', confidence: expect.closeTo(direct([0.5, -1, 0.25])[0], 12) });
  });

  test('stays finite for large logits', () => {
    const r = softmaxTop1(Float32Array.of(1000, 990), 0, 2, ['x', 'y']);
    expect(r.label).toBe('x');
    expect(r.confidence).toBeCloseTo(1 / (1 + Math.exp(-10)), 12);
  });
});
