import { checkMachine } from '#shared/deployment/core/machine-rules';
import { parseDeploySpec } from '#shared/deployment/core/deploy-spec';

describe("Vertex AI's machine and accelerator rules", () => {
  it.each([
    [{ machineType: 'n1-standard-2' }],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4' }],
    [{ machineType: 'n1-highmem-8', acceleratorType: 'NVIDIA_TESLA_V100', acceleratorCount: 8 }],
    [{ machineType: 'n1-standard-16', acceleratorType: 'NVIDIA_TESLA_P100', acceleratorCount: 4 }],
    [{ machineType: 'a2-highgpu-1g', acceleratorType: 'NVIDIA_TESLA_A100', acceleratorCount: 1 }],
    [{ machineType: 'a2-megagpu-16g', acceleratorType: 'NVIDIA_TESLA_A100', acceleratorCount: 16 }],
    [{ machineType: 'a2-ultragpu-2g', acceleratorType: 'NVIDIA_A100_80GB', acceleratorCount: 2 }],
    [{ machineType: 'a3-highgpu-8g', acceleratorType: 'NVIDIA_H100_80GB', acceleratorCount: 8 }],
    [{ machineType: 'g2-standard-24', acceleratorType: 'NVIDIA_L4', acceleratorCount: 2 }],
    [{ machineType: 'g2-standard-8', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }],
    [{ machineType: 'e2-standard-4' }],
    [{ machineType: 'n2-highcpu-16' }],
    [{ machineType: 'c2-standard-8' }],
  ])('accepts %o', (req) => {
    expect(checkMachine(req)).toEqual([]);
  });

  it.each([
    [{ machineType: 'a2-highgpu-1g', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }, 'acceleratorType NVIDIA_TESLA_T4 does not go with a2-highgpu-1g, which comes with NVIDIA_TESLA_A100'],
    [{ machineType: 'g2-standard-24', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, 'acceleratorCount 1 on g2-standard-24: it comes with exactly 2 NVIDIA_L4'],
    [{ machineType: 'g2-standard-24', acceleratorType: 'NVIDIA_L4' }, 'acceleratorCount 1 on g2-standard-24'],
    [{ machineType: 'a2-ultragpu-1g', acceleratorType: 'NVIDIA_TESLA_A100', acceleratorCount: 1 }, 'which comes with NVIDIA_A100_80GB'],
    [{ machineType: 'a2-highgpu-2g' }, 'a2-highgpu-2g comes with 2 NVIDIA_TESLA_A100: set acceleratorType NVIDIA_TESLA_A100 and acceleratorCount 2'],
    [{ machineType: 'a3-highgpu-8g', acceleratorType: 'NVIDIA_L4', acceleratorCount: 8 }, 'which comes with NVIDIA_H100_80GB'],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, 'NVIDIA_L4 does not attach to n1 machines'],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_A100', acceleratorCount: 1 }, 'does not attach to n1 machines'],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 3 }, 'acceleratorCount 3 of NVIDIA_TESLA_T4 on n1-standard-4: it takes 1, 2, 4'],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 8 }, 'it takes 1, 2, 4'],
    [{ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_K80', acceleratorCount: 1 }, 'NVIDIA_TESLA_K80 does not attach'],
    [{ machineType: 'e2-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }, 'e2-standard-4 takes no accelerator'],
    [{ machineType: 'n2-standard-8', acceleratorType: 'NVIDIA_TESLA_T4' }, 'n2-standard-8 takes no accelerator'],
    [{ machineType: 'c2-standard-8', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, 'takes no accelerator'],
    [{ machineType: 'g2-standard-6', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, 'g2-standard-6 is not a Vertex AI prediction machine type'],
    [{ machineType: 'x9-standard-4' }, 'the x9 family is not one Vertex AI prediction runs on'],
  ])('refuses %o, saying why', (req, reason) => {
    const problems = checkMachine(req);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(reason);
    expect(problems[0]).toContain('Configure compute resources for prediction');
  });
});

describe('deploy.json is held to them', () => {
  it('fails a spec that breaks them, naming the field and the rule', () => {
    const r = parseDeploySpec(JSON.stringify({ machineType: 'a2-highgpu-1g', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }));
    expect(r).toEqual({ ok: false, reason: expect.stringContaining('machineType: acceleratorType NVIDIA_TESLA_T4 does not go with a2-highgpu-1g') });
  });

  it('checks the spec with the deployment defaults under it', () => {
    // terraform's default says T4; a deploy.json that switches to g2 without its accelerator fails
    const r = parseDeploySpec(JSON.stringify({ machineType: 'g2-standard-24' }), { acceleratorType: 'NVIDIA_TESLA_T4' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain('g2-standard-24');
  });

  it('passes n1-standard-4 with one T4, and the default n1-standard-2 without an accelerator', () => {
    expect(parseDeploySpec(JSON.stringify({ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 })).ok).toBe(true);
    expect(parseDeploySpec(JSON.stringify({ machineType: 'n1-standard-2' })).ok).toBe(true);
    expect(parseDeploySpec(undefined).ok).toBe(true);
  });

  it('takes serving "prebuilt" or "tf-serving" and nothing else', () => {
    expect(parseDeploySpec('{"serving": "tf-serving"}')).toMatchObject({ ok: true, spec: { serving: 'tf-serving' } });
    expect(parseDeploySpec('{"serving": "prebuilt"}')).toMatchObject({ ok: true, spec: { serving: 'prebuilt' } });
    expect(parseDeploySpec('{"serving": "torchserve"}')).toEqual({ ok: false, reason: expect.stringContaining("serving: serving must be 'prebuilt' or 'tf-serving'") });
  });
});
