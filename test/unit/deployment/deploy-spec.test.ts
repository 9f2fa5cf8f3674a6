import { DEFAULT_SPEC, parseDeploySpec } from '#shared/deployment/core/deploy-spec';

describe('parseDeploySpec', () => {
  it('applies Vertex defaults when there is no deploy.json', () => {
    // Act
    const result = parseDeploySpec(undefined);
    // Assess
    expect(result).toEqual({ ok: true, spec: DEFAULT_SPEC });
    expect(DEFAULT_SPEC).toMatchObject({ machineType: 'n1-standard-2', minReplicaCount: 1, autoscalingTargetPercent: 60, traffic: { kind: 'replace' } });
  });

  it("puts the deployment's defaults under deploy.json, deploy.json winning field by field", () => {
    // Prepare
    const defaults = { machineType: 'n1-standard-8', maxReplicaCount: 3, traffic: 'canary:5' };
    // Act
    const none = parseDeploySpec(undefined, defaults);
    const some = parseDeploySpec(JSON.stringify({ traffic: 'replace' }), defaults);
    const clash = parseDeploySpec(JSON.stringify({ minReplicaCount: 4 }), defaults);
    // Assess
    expect(none.ok && none.spec).toMatchObject({ machineType: 'n1-standard-8', maxReplicaCount: 3, traffic: { kind: 'canary', percent: 5 } });
    expect(some.ok && some.spec).toMatchObject({ machineType: 'n1-standard-8', traffic: { kind: 'replace' } });
    expect(clash).toEqual({ ok: false, reason: expect.stringContaining('maxReplicaCount (3) is below minReplicaCount (4)') });
  });

  it('refuses a deploy.json that is not an object', () => {
    expect(parseDeploySpec('[1]')).toEqual({ ok: false, reason: expect.stringContaining('expected an object') });
  });

  it('reads a full spec with a canary', () => {
    // Prepare
    const text = JSON.stringify({
      displayName: 'MNIST ViT',
      machineType: 'n1-standard-4',
      acceleratorType: 'NVIDIA_TESLA_T4',
      acceleratorCount: 1,
      minReplicaCount: 2,
      maxReplicaCount: 5,
      autoscalingTargetPercent: 70,
      traffic: 'canary:10',
      containerImageUri: 'us-docker.pkg.dev/p/r/serve:1',
    });
    // Act
    const result = parseDeploySpec(text);
    // Assess
    expect(result.ok && result.spec).toMatchObject({ traffic: { kind: 'canary', percent: 10 }, minReplicaCount: 2, maxReplicaCount: 5 });
  });

  it.each([
    ['{not json', 'not valid JSON'],
    ['{"minReplicaCount": 0}', 'minReplicaCount: minReplicaCount must be at least 1'],
    ['{"traffic": "canary:100"}', "traffic: traffic must be 'replace' or 'canary:<1-99>'"],
    ['{"traffic": "canary:0"}', 'traffic'],
    ['{"minReplicaCount": 3, "maxReplicaCount": 2}', 'maxReplicaCount (2) is below minReplicaCount (3)'],
    ['{"acceleratorCount": 1}', 'acceleratorCount needs acceleratorType'],
    ['{"machinetype": "n1-standard-4"}', 'machinetype'],
  ])('rejects %s naming the problem', (text, reason) => {
    // Act
    const result = parseDeploySpec(text);
    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});
