import { validateVersion } from '#shared/deployment/validate-version';
import { REFERENCE_SIGNATURE } from '#shared/savedmodel/signature-check';
import { writeSavedModel } from '#local/savedmodel/write-saved-model';

const savedModel = writeSavedModel({
  tensorflowVersion: '2.15.0',
  signatures: { serving_default: { inputs: REFERENCE_SIGNATURE.inputs, outputs: REFERENCE_SIGNATURE.outputs } },
});
const MIRROR = 'us-central1-docker.pkg.dev/p/dockerhub-mirror/tensorflow/serving:2.19.1';
const validate = (now: string, deployJson?: string, tfServingImage: string | null = MIRROR) =>
  validateVersion({ savedModel, deployJson, location: 'us-central1', now: new Date(now), ...(tfServingImage ? { tfServingImage } : {}) });

describe('validateVersion picks the serving image on the clock it is given', () => {
  it('prebuilt 2.15 the moment before 2027-01-14, TensorFlow Serving from then on', () => {
    expect(validate('2027-01-13T23:59:59Z')).toMatchObject({
      ok: true,
      serving: 'prebuilt',
      containerImageUri: 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest',
      imageAvailableUntil: '2027-01-14',
    });
    const after = validate('2027-01-14T00:00:00Z');
    expect(after).toMatchObject({ ok: true, serving: 'tf-serving', containerImageUri: MIRROR });
    expect(after.ok && 'imageAvailableUntil' in after).toBe(false);
  });

  it('uses the GPU tag when deploy.json names an accelerator', () => {
    const spec = JSON.stringify({ machineType: 'n1-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1, serving: 'tf-serving' });
    expect(validate('2026-12-01T00:00:00Z', spec)).toMatchObject({ ok: true, serving: 'tf-serving', containerImageUri: `${MIRROR}-gpu` });
  });

  it('fails, before any Vertex call, when TF Serving is due and the deployment has no mirrored image', () => {
    expect(validate('2027-02-01T00:00:00Z', undefined, null)).toEqual({ ok: false, reason: expect.stringContaining('terraform/serving-image.tf') });
  });

  it('fails a deploy.json that breaks the machine rules before looking at images', () => {
    expect(validate('2026-12-01T00:00:00Z', '{"machineType": "g2-standard-24", "acceleratorType": "NVIDIA_L4", "acceleratorCount": 1}')).toEqual({
      ok: false,
      reason: expect.stringContaining('acceleratorCount 1 on g2-standard-24: it comes with exactly 2 NVIDIA_L4'),
    });
  });
});
