import { parseObjectPath } from '#shared/deployment/core/object-path';

describe('parseObjectPath', () => {
  it('splits <model>/<version>/<file> and keeps nested file paths', () => {
    // Act
    const result = parseObjectPath('mnist-vit/v2/variables/variables.index');
    // Assess
    expect(result).toEqual({ ok: true, model: 'mnist-vit', version: 'v2', file: 'variables/variables.index' });
  });

  it.each([
    ['Mnist/v1/saved_model.pb', 'not a valid model name'],
    ['1model/v1/saved_model.pb', 'not a valid model name'],
    ['my_model/v1/saved_model.pb', 'not a valid model name'],
    ['model-/v1/saved_model.pb', 'not a valid model name'],
    ['model/saved_model.pb', 'not inside a version folder'],
    ['model//saved_model.pb', 'not inside a version folder'],
    ['model/.hidden/saved_model.pb', 'not usable'],
  ])('rejects %s with a reason', (name, reason) => {
    // Act
    const result = parseObjectPath(name);
    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});
