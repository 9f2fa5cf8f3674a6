import { REFERENCE_SIGNATURE } from '#shared/savedmodel/signature-check';
import { writeSavedModel } from '#local/savedmodel/write-saved-model';
import type { ArtifactEvent } from '#shared/deployment/drop-model';
import type { FakeArtifactStore } from './artifact-store';

export const MODELS_BUCKET = 'models';

/** The files of a whole SavedModel version (the reference signature unless told otherwise). */
export function savedModelFiles(opts: { signature?: 'reference' | 'wrong'; deployJson?: unknown } = {}): Array<[string, Buffer]> {
  const outputs = opts.signature === 'wrong' ? { scores: { dtype: 'DT_FLOAT' as const, shape: [-1, 10] } } : REFERENCE_SIGNATURE.outputs;
  const pb = writeSavedModel({ tensorflowVersion: '2.15.0', signatures: { serving_default: { inputs: REFERENCE_SIGNATURE.inputs, outputs } } });
  const files: Array<[string, Buffer]> = [
    ['saved_model.pb', Buffer.from(pb)],
    ['variables/variables.index', Buffer.from('index')],
    ['variables/variables.data-00000-of-00001', Buffer.from('weights')],
  ];
  if (opts.deployJson !== undefined) files.unshift(['deploy.json', Buffer.from(typeof opts.deployJson === 'string' ? opts.deployJson : JSON.stringify(opts.deployJson))]);
  return files;
}

/** Uploads the files under <model>/<version>/ and returns the finalize event of each, in upload order. */
export function uploadVersion(artifacts: FakeArtifactStore, model: string, version: string, files: Array<[string, Buffer]>): ArtifactEvent[] {
  return files.map(([path, bytes], i) => {
    const name = `${model}/${version}/${path}`;
    const generation = artifacts.put(MODELS_BUCKET, name, bytes);
    return { id: `event-${model}-${version}-${i}-${generation}`, type: 'google.cloud.storage.object.v1.finalized', bucket: MODELS_BUCKET, name, generation };
  });
}
