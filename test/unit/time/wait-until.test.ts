import { waitUntilDone, type Clock } from '#shared/time/wait-until';

/** A clock that only moves when the code under test sleeps. */
function manualClock(start = 1_000): Clock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe('waitUntilDone', () => {
  it('returns true as soon as the check reports done, without sleeping when it is done at once', async () => {
    const clock = manualClock();
    expect(await waitUntilDone(async () => true, { until: 2_000, intervalMs: 200, clock })).toBe(true);
    expect(clock.slept).toEqual([]);
  });

  it('checks again after each interval until done', async () => {
    const clock = manualClock();
    let calls = 0;
    const done = await waitUntilDone(async () => ++calls === 3, { until: 5_000, intervalMs: 200, clock });
    expect(done).toBe(true);
    expect(calls).toBe(3);
    expect(clock.slept).toEqual([200, 200]);
  });

  it('returns false once the clock has passed `until`, after a last check', async () => {
    const clock = manualClock(1_000);
    let calls = 0;
    const done = await waitUntilDone(
      async () => {
        calls++;
        return false;
      },
      { until: 1_500, intervalMs: 200, clock },
    );
    expect(done).toBe(false);
    // checks at 1000, 1200, 1400, 1600: the one at 1600 is past 1500, so no more sleeping
    expect(calls).toBe(4);
    expect(clock.now()).toBe(1_600);
  });
});
