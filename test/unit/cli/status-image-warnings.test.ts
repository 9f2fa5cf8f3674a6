import { imageWarnings, type ModelStatus } from '#local/cli/status';

const PREBUILT_215 = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest';
const MIRROR = 'us-central1-docker.pkg.dev/p/dockerhub-mirror/tensorflow/serving:2.19.1';

function model(versions: Array<{ version: string; state: string; containerImageUri?: string }>): ModelStatus {
  return {
    model: 'digits',
    endpoint: 'projects/p/locations/us-central1/endpoints/digits',
    vertexModel: null,
    traffic: {},
    versions: versions.map((v) => ({
      ...v,
      history: [],
      artifactUri: '',
      claimedBy: '',
      versionAlias: v.version,
      traffic: 'replace',
      createdAt: '',
      updatedAt: '',
    })) as unknown as ModelStatus['versions'],
  };
}

describe('dropship status warns about serving images that are ending', () => {
  const models = [
    model([
      { version: 'v1', state: 'SUPERSEDED', containerImageUri: PREBUILT_215 },
      { version: 'v2', state: 'DEPLOYED', containerImageUri: PREBUILT_215 },
      { version: 'v3', state: 'DEPLOYED', containerImageUri: MIRROR },
    ]),
  ];

  it('warns, on a fixed clock, about a deployed version whose prebuilt image ends within 60 days', () => {
    // 2026-12-01: 43 days before 2.15 ends on 2027-01-14
    const w = imageWarnings(models, new Date('2026-12-01T12:00:00Z'));
    expect(w).toEqual([expect.stringMatching(/^digits\/v2 serves on .*tf2-cpu\.2-15:latest, which Vertex AI stops offering on 2027-01-14 \(43 days from now\): .*"serving": "tf-serving"/)]);
  });

  it('is silent 61 days ahead, warns at exactly 60, and says the image has ended once past', () => {
    expect(imageWarnings(models, new Date('2026-11-14T00:00:00Z'))).toEqual([]);
    expect(imageWarnings(models, new Date('2026-11-15T00:00:00Z'))).toHaveLength(1);
    expect(imageWarnings(models, new Date('2027-02-01T00:00:00Z'))).toEqual([expect.stringContaining('stopped offering on 2027-01-14')]);
  });

  it('never warns about TF Serving or versions no longer serving', () => {
    const w = imageWarnings(models, new Date('2027-01-10T00:00:00Z'));
    expect(w.join('\n')).not.toContain('digits/v1');
    expect(w.join('\n')).not.toContain('digits/v3');
  });
});
