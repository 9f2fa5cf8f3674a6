import { chooseRoute, estimateCost, formatHours, nodeHourPrice, parseDeadline, type CostInputs } from '#shared/labeling/cost/cost-model';
import type { PriceTable } from '#shared/labeling/cost/price-table';
import { PRICE_TABLE } from '#shared/labeling/cost/price-table';

/** A fixed table, so these tests never move when the real prices are updated. */
const TABLE: PriceTable = {
  date: '2000-01-01',
  source: 'test',
  region: 'test',
  currency: 'USD',
  machines: { small: 0.2, big: 1 },
  accelerators: { GPU: 0.5 },
};

const inputs = (over: Partial<CostInputs> = {}): CostInputs => ({
  images: 36_000,
  online: { machineType: 'small', replicas: 1, imagesPerSecondPerReplica: 10 },
  batch: { machineType: 'small', nodes: 4, imagesPerSecondPerNode: 20, startupMinutes: 30 },
  ...over,
});

describe('cost model', () => {
  it('online: replica-hours at the measured rate; batch: start-up plus node-hours', () => {
    const e = estimateCost(TABLE, inputs());
    // 36,000 images at 10/s on 1 replica = 1 h = 1 replica-hour at $0.2
    expect(e.online).toEqual({ route: 'online', hours: 1, nodeHours: 1, usd: 0.2, meetsDeadline: true });
    // 0.5 h start-up + 36,000 / (20 x 4) / 3600 = 0.125 h -> 0.625 h x 4 nodes = 2.5 node-hours
    expect(e.batch.hours).toBeCloseTo(0.625, 10);
    expect(e.batch.nodeHours).toBeCloseTo(2.5, 10);
    expect(e.batch.usd).toBeCloseTo(0.5, 10);
    expect(e.priceTableDate).toBe('2000-01-01');
  });

  it('accelerators add their hourly price per accelerator; unknown machines are named', () => {
    expect(nodeHourPrice(TABLE, { machineType: 'big', acceleratorType: 'GPU', acceleratorCount: 2 })).toBe(2);
    expect(() => nodeHourPrice(TABLE, { machineType: 'huge' })).toThrow(/no price for machine type huge.*known: small, big/);
    expect(() => nodeHourPrice(PRICE_TABLE, { machineType: 'n1-standard-4' })).not.toThrow();
  });

  it('auto picks the cheaper route, the one that meets the deadline, or the faster when none does', () => {
    expect(chooseRoute(TABLE, inputs())).toMatchObject({ route: 'online', reason: expect.stringMatching(/^online is cheaper: online \$0\.2000 in 1\.00 h, batch \$0\.5000 in 37\.5 min/) });
    // A job 10x as big: online 10 h ($2), batch 0.5 + 1.25 h x 4 = 7 node-hours ($1.4)
    expect(chooseRoute(TABLE, inputs({ images: 360_000 })).route).toBe('batch');
    // Deadline 45 min: only batch (37.5 min) makes it, though dearer
    expect(chooseRoute(TABLE, inputs({ deadlineMs: 45 * 60_000 }))).toMatchObject({ route: 'batch', reason: expect.stringContaining('only batch meets the deadline') });
    // Deadline 10 min: neither; batch is faster
    expect(chooseRoute(TABLE, inputs({ deadlineMs: 10 * 60_000 }))).toMatchObject({ route: 'batch', reason: expect.stringContaining('neither route meets the deadline') });
    expect(chooseRoute(TABLE, inputs({ images: 360_000, deadlineMs: 24 * 3_600_000 })).reason).toContain('batch is cheaper and both meet the deadline');
  });

  it('parses deadlines and formats durations', () => {
    expect(parseDeadline('2h')).toBe(7_200_000);
    expect(parseDeadline('90m')).toBe(5_400_000);
    expect(parseDeadline('1.5d')).toBe(129_600_000);
    expect(parseDeadline('soon')).toBeUndefined();
    expect(formatHours(0.001)).toBe('4 s');
    expect(formatHours(2)).toBe('2.00 h');
  });
});
