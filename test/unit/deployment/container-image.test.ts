import { chooseContainerImage } from '#shared/deployment/core/container-image';

describe('chooseContainerImage', () => {
  it('matches the TF minor version and CPU/GPU, in the region-nearest registry', () => {
    // Act / Assess
    expect(chooseContainerImage({ tensorflowVersion: '2.13.1', accelerated: false, location: 'us-central1' })).toEqual({
      ok: true,
      imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-13:latest',
    });
    expect(chooseContainerImage({ tensorflowVersion: '2.12.0', accelerated: true, location: 'europe-west4' })).toMatchObject({
      imageUri: 'europe-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-12:latest',
    });
  });

  it('uses the newest prebuilt image for newer TF, with a note', () => {
    // Act
    const choice = chooseContainerImage({ tensorflowVersion: '2.17.0', accelerated: false, location: 'asia-east1' });
    // Assess
    expect(choice).toMatchObject({ ok: true, imageUri: 'asia-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest' });
    expect(choice.ok && choice.note).toContain('newer');
  });

  it('refuses TF1 SavedModels and asks for an override', () => {
    // Act
    const choice = chooseContainerImage({ tensorflowVersion: '1.15.0', accelerated: false, location: 'us-central1' });
    // Assess
    expect(choice.ok).toBe(false);
    expect(!choice.ok && choice.reason).toContain('containerImageUri');
  });
});
