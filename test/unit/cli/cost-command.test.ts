import { costTable, estimate } from '#local/cli/cost';
import { planUploads } from '#local/cli/label';

const FLAGS = { onlineMachine: 'n1-standard-4', onlineReplicas: 1, onlineRate: 50, batchMachine: 'n1-standard-4', batchNodes: 4, batchRate: 200, startupMinutes: 15 };

describe('dropship cost', () => {
  it('prints both routes, what auto picks and why, and the price table date', () => {
    const choice = estimate(FLAGS, 2_000_000, undefined);
    // online: 2e6 / 50 / 3600 = 11.1 h of one replica; batch: 0.25 h + 2e6 / 800 / 3600 = 0.944 h x 4 nodes
    expect(choice.estimate.online.nodeHours).toBeCloseTo(11.111, 3);
    expect(choice.estimate.batch.nodeHours).toBeCloseTo(3.778, 3);
    expect(choice.route).toBe('batch');
    const text = costTable(choice, 'mnist-vit');
    expect(text).toContain('2000000 images for model mnist-vit');
    expect(text).toMatch(/^online +11\.11 h +11\.111 +\$\d+\.\d{4} +yes$/m);
    expect(text).toMatch(/^auto: batch \(batch is cheaper/m);
    expect(text).toContain('dated 2026-12-01');
  });

  it('names a machine type the price table does not have', () => {
    expect(() => estimate({ ...FLAGS, batchMachine: 'x9-giant' }, 10, undefined)).toThrow(/no price for machine type x9-giant/);
  });
});

describe('dropship label --mode', () => {
  it('puts batch and auto images under _batch/<job>/images/ (a manifest names them), online ones under <job>/', () => {
    expect(planUploads([__filename], { job: 'j1', mode: 'batch' })[0]!.name).toBe('_batch/j1/images/cost-command.test.ts');
    expect(planUploads([__filename], { job: 'j1' })[0]!.name).toBe('j1/cost-command.test.ts');
    expect(() => planUploads([__filename], { job: 'j1', mode: 'fast' })).toThrow(/--mode 'fast'/);
    expect(() => planUploads([__filename], { job: 'j1', mode: 'auto', deadline: 'soon' })).toThrow(/--deadline 'soon'/);
  });
});
