import { chooseServing, daysUntilImageEnds, PREBUILT_TF_IMAGES, prebuiltImageAvailableUntil, servingContainer } from '#shared/deployment/core/container-image';

const MIRROR = 'us-central1-docker.pkg.dev/p/dockerhub-mirror/tensorflow/serving:2.19.1';
const at = (iso: string) => new Date(iso);
/** Today, as this table was checked, and the instants either side of each end date. */
const TODAY = at('2026-12-01T12:00:00Z');
const LAST_PREBUILT_MOMENT = at('2027-01-13T23:59:59.999Z');
const FIRST_TF_SERVING_MOMENT = at('2027-01-14T00:00:00Z');

const choose = (tensorflowVersion: string, now: Date, extra: Partial<Parameters<typeof chooseServing>[0]> = {}) =>
  chooseServing({ tensorflowVersion, accelerated: false, location: 'us-central1', now, tfServingImage: MIRROR, ...extra });

describe('the prebuilt image table', () => {
  it('is dated and lists only what Vertex AI published: 2.14 and 2.15 until 2027-01-14, nothing newer', () => {
    expect(PREBUILT_TF_IMAGES.find((i) => i.minor === 15)?.availableUntil).toBe('2027-01-14');
    expect(PREBUILT_TF_IMAGES.find((i) => i.minor === 14)?.availableUntil).toBe('2027-01-14');
    expect(PREBUILT_TF_IMAGES.find((i) => i.minor === 13)?.availableUntil).toBe('2025-11-28');
    expect(PREBUILT_TF_IMAGES.find((i) => i.minor === 12)?.availableUntil).toBe('2025-06-30');
    expect(Math.max(...PREBUILT_TF_IMAGES.map((i) => i.minor))).toBe(15);
  });
});

describe('chooseServing, on a fixed clock', () => {
  it('gives a SavedModel its own TF minor on CPU or GPU, in the region-nearest registry, :latest', () => {
    expect(choose('2.15.1', TODAY)).toEqual({
      ok: true,
      serving: 'prebuilt',
      imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest',
      availableUntil: '2027-01-14',
      notes: [],
    });
    expect(choose('2.14.0', TODAY, { accelerated: true, location: 'europe-west4' })).toMatchObject({ imageUri: 'europe-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-14:latest' });
    expect(choose('2.14.0', TODAY, { location: 'asia-east1' })).toMatchObject({ imageUri: 'asia-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-14:latest' });
  });

  it('serves TF 2.13 on its own image the day before it ended, and on 2.14 (with a note) from that day', () => {
    expect(choose('2.13.1', at('2025-11-27T23:59:59Z'))).toMatchObject({ imageUri: expect.stringContaining('tf2-cpu.2-13:latest'), notes: [] });
    const after = choose('2.13.1', at('2025-11-28T00:00:00Z'));
    expect(after).toMatchObject({ ok: true, serving: 'prebuilt', imageUri: expect.stringContaining('tf2-cpu.2-14:latest') });
    expect(after.ok && after.notes.join(' ')).toMatch(/2\.13\.1.*no longer available.*2\.14, the oldest available/);
  });

  it('serves TF 2.12 on its own image until 2025-06-30, then on the oldest still available', () => {
    expect(choose('2.12.0', at('2025-06-29T23:59:59Z'))).toMatchObject({ imageUri: expect.stringContaining('tf2-cpu.2-12:latest'), notes: [] });
    expect(choose('2.12.0', at('2025-06-30T00:00:00Z'))).toMatchObject({ imageUri: expect.stringContaining('tf2-cpu.2-13:latest'), notes: [expect.stringContaining('oldest available')] });
  });

  it('serves a TF 2.8 SavedModel (the walkthrough’s old image) on the oldest available image today, with a note', () => {
    const c = choose('2.8.0', TODAY);
    expect(c).toMatchObject({ ok: true, serving: 'prebuilt', imageUri: expect.stringContaining('tf2-cpu.2-14:latest') });
    expect(c.ok && c.notes[0]).toContain('TensorFlow 2.8.0');
  });

  it('serves a TF newer than 2.15 on 2.15 with a note', () => {
    const c = choose('2.17.0', TODAY);
    expect(c).toMatchObject({ ok: true, imageUri: expect.stringContaining('tf2-cpu.2-15:latest'), notes: [expect.stringContaining('newer than the newest prebuilt image')] });
  });

  it('uses the newest prebuilt image, with a note, when the SavedModel records no TF version', () => {
    expect(choose('', TODAY)).toMatchObject({ ok: true, imageUri: expect.stringContaining('tf2-cpu.2-15:latest'), notes: [expect.stringContaining('does not record')] });
  });

  it('switches to the mirrored TensorFlow Serving image once the prebuilt images end (2027-01-14), GPU tag with an accelerator', () => {
    expect(choose('2.15.0', LAST_PREBUILT_MOMENT)).toMatchObject({ serving: 'prebuilt' });
    const cpu = choose('2.15.0', FIRST_TF_SERVING_MOMENT);
    expect(cpu).toEqual({ ok: true, serving: 'tf-serving', imageUri: MIRROR, notes: [expect.stringContaining('ended on 2027-01-14')] });
    expect(choose('2.17.0', FIRST_TF_SERVING_MOMENT, { accelerated: true })).toMatchObject({ serving: 'tf-serving', imageUri: `${MIRROR}-gpu` });
    expect(choose('2.8.0', at('2027-06-01T00:00:00Z'))).toMatchObject({ serving: 'tf-serving' });
  });

  it('fails with what to do when TF Serving is due and the deployment has no mirrored image', () => {
    const c = choose('2.15.0', FIRST_TF_SERVING_MOMENT, { tfServingImage: undefined });
    expect(c.ok).toBe(false);
    expect(!c.ok && c.reason).toMatch(/terraform\/serving-image\.tf.*containerImageUri/);
  });

  it('honours deploy.json: "tf-serving" before the end date, "prebuilt" refused after it', () => {
    expect(choose('2.15.0', TODAY, { serving: 'tf-serving' })).toMatchObject({ ok: true, serving: 'tf-serving', imageUri: MIRROR });
    expect(choose('2.15.0', LAST_PREBUILT_MOMENT, { serving: 'prebuilt' })).toMatchObject({ ok: true, serving: 'prebuilt' });
    const late = choose('2.15.0', FIRST_TF_SERVING_MOMENT, { serving: 'prebuilt' });
    expect(late.ok).toBe(false);
    expect(!late.ok && late.reason).toContain('"tf-serving"');
  });

  it('uses containerImageUri as is, or as the TF Serving image when serving is tf-serving', () => {
    const own = 'us-docker.pkg.dev/p/r/serve:1';
    expect(choose('2.15.0', TODAY, { imageOverride: own })).toEqual({ ok: true, serving: 'custom', imageUri: own, notes: [] });
    expect(choose('2.15.0', FIRST_TF_SERVING_MOMENT, { imageOverride: own })).toMatchObject({ serving: 'custom', imageUri: own });
    expect(choose('2.15.0', TODAY, { imageOverride: own, serving: 'tf-serving', accelerated: true })).toMatchObject({ serving: 'tf-serving', imageUri: own });
  });

  it('serves TF 1.x on TensorFlow Serving when the deployment has it, and otherwise says what to set', () => {
    expect(choose('1.15.0', TODAY)).toMatchObject({ ok: true, serving: 'tf-serving', notes: [expect.stringContaining('no prebuilt')] });
    const none = choose('1.15.0', TODAY, { tfServingImage: undefined });
    expect(!none.ok && none.reason).toMatch(/"serving": "tf-serving" or containerImageUri/);
  });
});

describe('servingContainer', () => {
  it('gives TensorFlow Serving what Vertex AI requires of a custom container', () => {
    expect(servingContainer('tf-serving', MIRROR, 'digits')).toEqual({
      imageUri: MIRROR,
      command: ['/usr/bin/tensorflow_model_server'],
      args: ['--model_name=digits', '--model_base_path=$(AIP_STORAGE_URI)', '--rest_api_port=8501', '--port=8500', '--file_system_poll_wait_seconds=0'],
      ports: [{ containerPort: 8501 }],
      predictRoute: '/v1/models/digits:predict',
      healthRoute: '/v1/models/digits',
    });
  });

  it('gives prebuilt and custom images the image alone', () => {
    expect(servingContainer('prebuilt', 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest', 'digits')).toEqual({ imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest' });
    expect(servingContainer('custom', 'us-docker.pkg.dev/p/r/serve:1', 'digits')).toEqual({ imageUri: 'us-docker.pkg.dev/p/r/serve:1' });
  });
});

describe('how long an image has left', () => {
  it('reads the end date from a prebuilt image URI, and none from other images', () => {
    expect(prebuiltImageAvailableUntil('europe-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-15:latest')).toBe('2027-01-14');
    expect(prebuiltImageAvailableUntil('us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-8:latest')).toBe('2024-11-15');
    expect(prebuiltImageAvailableUntil(MIRROR)).toBeUndefined();
  });

  it('counts whole days to the end date', () => {
    const image = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest';
    expect(daysUntilImageEnds(image, TODAY)).toBe(43);
    expect(daysUntilImageEnds(image, at('2026-11-15T00:00:00Z'))).toBe(60);
    expect(daysUntilImageEnds(image, FIRST_TF_SERVING_MOMENT)).toBe(0);
    expect(daysUntilImageEnds(MIRROR, TODAY)).toBeUndefined();
  });
});
