/**
 * The prebuilt Vertex AI TensorFlow serving image for a SavedModel: the TF minor version that
 * wrote it (meta_info_def.tensorflow_version), CPU or GPU by accelerator, the registry nearest
 * the region. Versions newer than the newest prebuilt image use the newest; older than 2.1
 * (TF1 graphs) have no tf2 image, and the user must name one in deploy.json.
 */
export const NEWEST_TF_IMAGE_MINOR = 15;
export const OLDEST_TF_IMAGE_MINOR = 1;

export type ImageChoice = { ok: true; imageUri: string; note?: string } | { ok: false; reason: string };

export function chooseContainerImage(args: { tensorflowVersion: string; accelerated: boolean; location: string }): ImageChoice {
  const m = /^(\d+)\.(\d+)/.exec(args.tensorflowVersion.trim());
  const registry = args.location.startsWith('europe') ? 'europe' : args.location.startsWith('asia') ? 'asia' : 'us';
  const kind = args.accelerated ? 'gpu' : 'cpu';
  const image = (minor: number) => `${registry}-docker.pkg.dev/vertex-ai/prediction/tf2-${kind}.2-${minor}:latest`;
  if (!m) {
    return {
      ok: true,
      imageUri: image(NEWEST_TF_IMAGE_MINOR),
      note: `the SavedModel does not record its TensorFlow version; using TF 2.${NEWEST_TF_IMAGE_MINOR}`,
    };
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 2 || minor < OLDEST_TF_IMAGE_MINOR) {
    return {
      ok: false,
      reason: `the SavedModel was written by TensorFlow ${args.tensorflowVersion}, which has no prebuilt Vertex AI image: set containerImageUri in deploy.json`,
    };
  }
  if (minor > NEWEST_TF_IMAGE_MINOR) {
    return {
      ok: true,
      imageUri: image(NEWEST_TF_IMAGE_MINOR),
      note: `TensorFlow ${args.tensorflowVersion} is newer than the newest prebuilt image; using TF 2.${NEWEST_TF_IMAGE_MINOR}`,
    };
  }
  return { ok: true, imageUri: image(minor) };
}
