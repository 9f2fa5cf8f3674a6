import { status } from '@grpc/grpc-js';
import { pickDeployedModel, splitAfterDeploy, splitAfterUndeploy, splitForUpdate } from '#local/vertex-emulator/traffic';

describe('traffic split rules', () => {
  it('DeployModel: "0" stands for the new model, values must add up to 100, known ids only', () => {
    expect(splitAfterDeploy({ '0': 100 }, [], {}, 'new')).toEqual({ new: 100 });
    expect(splitAfterDeploy({ '0': 10, a: 90 }, ['a'], { a: 100 }, 'new')).toEqual({ a: 90, new: 10 });
    expect(() => splitAfterDeploy({ '0': 10, a: 80 }, ['a'], { a: 100 }, 'new')).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT }));
    expect(() => splitAfterDeploy({ '0': 10, b: 90 }, ['a'], { a: 100 }, 'new')).toThrow(/"b" is not a model deployed/);
    expect(() => splitAfterDeploy({ '0': 100.5, a: -0.5 }, ['a'], {}, 'new')).toThrow(/integer from 0 to 100/);
  });

  it('DeployModel with an empty split leaves the split as it was: the new model gets no traffic', () => {
    expect(splitAfterDeploy({}, ['a'], { a: 100 }, 'new')).toEqual({ a: 100 });
  });

  it('UndeployModel is refused while the model has traffic, unless the request takes it away or it is the last one', () => {
    const current = { a: 90, b: 10 };
    expect(() => splitAfterUndeploy({}, ['a', 'b'], current, 'b')).toThrow(expect.objectContaining({ code: status.FAILED_PRECONDITION }));
    expect(() => splitAfterUndeploy({ a: 90, b: 10 }, ['a', 'b'], current, 'b')).toThrow(expect.objectContaining({ code: status.FAILED_PRECONDITION }));
    expect(splitAfterUndeploy({ a: 100 }, ['a', 'b'], current, 'b')).toEqual({ a: 100 });
    expect(splitAfterUndeploy({ a: 100, b: 0 }, ['a', 'b'], current, 'b')).toEqual({ a: 100 });
    expect(splitAfterUndeploy({}, ['a', 'b'], { a: 100 }, 'b')).toEqual({ a: 100 });
    expect(splitAfterUndeploy({}, ['a'], { a: 100 }, 'a')).toEqual({});
  });

  it('UpdateEndpoint replaces the split over deployed models only', () => {
    expect(splitForUpdate({ a: 0, b: 100 }, ['a', 'b'])).toEqual({ b: 100 });
    expect(() => splitForUpdate({ a: 50 }, ['a', 'b'])).toThrow(/add up to 100/);
    expect(splitForUpdate({}, [])).toEqual({});
  });

  it('picks deployed models in proportion to their traffic', () => {
    const split = { a: 90, b: 10 };
    expect(pickDeployedModel(split, () => 0)).toBe('a');
    expect(pickDeployedModel(split, () => 0.8999)).toBe('a');
    expect(pickDeployedModel(split, () => 0.9)).toBe('b');
    expect(pickDeployedModel(split, () => 0.99999)).toBe('b');
    expect(pickDeployedModel({ a: 0 }, () => 0.5)).toBeUndefined();
    expect(pickDeployedModel({}, () => 0.5)).toBeUndefined();
  });
});
