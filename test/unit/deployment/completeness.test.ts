import { decideCompleteness } from '#shared/deployment/core/completeness';

const base = ['saved_model.pb', 'variables/variables.index'];

describe('decideCompleteness', () => {
  it('is complete with the graph, the index and every shard', () => {
    // Prepare
    const files = [...base, 'variables/variables.data-00000-of-00002', 'variables/variables.data-00001-of-00002', 'deploy.json'];
    // Act / Assess
    expect(decideCompleteness(files, { requireMarker: false })).toEqual({ complete: true });
  });

  it('names the missing shard of a sharded checkpoint', () => {
    // Prepare
    const files = [...base, 'variables/variables.data-00001-of-00003'];
    // Act
    const result = decideCompleteness(files, { requireMarker: false });
    // Assess
    expect(result).toEqual({ complete: false, missing: ['variables/variables.data-00000-of-00003', 'variables/variables.data-00002-of-00003'] });
  });

  it('waits for a shard when none has landed yet, and for the graph and index', () => {
    // Act
    const result = decideCompleteness(['variables/variables.index'], { requireMarker: false });
    // Assess
    expect(result).toEqual({ complete: false, missing: ['saved_model.pb', 'variables/variables.data-00000-of-NNNNN'] });
  });

  it('with the marker required, only the marker counts', () => {
    // Prepare
    const whole = [...base, 'variables/variables.data-00000-of-00001'];
    // Act / Assess
    expect(decideCompleteness(whole, { requireMarker: true })).toEqual({ complete: false, missing: ['_COMPLETE'] });
    expect(decideCompleteness([...whole, '_COMPLETE'], { requireMarker: true })).toEqual({ complete: true });
  });
});
