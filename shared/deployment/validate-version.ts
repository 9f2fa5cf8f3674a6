import { readSavedModel } from '#shared/savedmodel/read-saved-model';
import { checkSignature, REFERENCE_SIGNATURE, type ExpectedSignature } from '#shared/savedmodel/signature-check';
import { chooseServing, type ServingKind } from './core/container-image';
import { isAccelerated, parseDeploySpec, type DeploySpec } from './core/deploy-spec';

export type { ExpectedSignature };

export type Validation =
  | {
      ok: true;
      spec: DeploySpec;
      tensorflowVersion: string;
      serving: ServingKind;
      containerImageUri: string;
      /** the prebuilt image's end of availability, when it has one */
      imageAvailableUntil?: string;
      notes: string[];
    }
  | { ok: false; reason: string };

/**
 * Everything that decides whether a version may reach Vertex AI, on bytes already read:
 * the SavedModel parses, has a `serve` graph with the expected signature, deploy.json is valid,
 * and a serving image exists for it. Each reason says what to fix.
 */
export function validateVersion(input: {
  savedModel: Uint8Array;
  deployJson: string | undefined;
  /** the deployment's defaults under deploy.json (DEFAULT_DEPLOY_SPEC) */
  defaultSpec?: Record<string, unknown>;
  expected?: ExpectedSignature;
  location: string;
  /** the date the serving image is chosen on (the caller's clock) */
  now: Date;
  /** the mirrored TensorFlow Serving image (TF_SERVING_IMAGE), when the deployment has one */
  tfServingImage?: string;
}): Validation {
  const parsedSpec = parseDeploySpec(input.deployJson, input.defaultSpec);
  if (!parsedSpec.ok) return { ok: false, reason: parsedSpec.reason };
  const spec = parsedSpec.spec;

  let info: ReturnType<typeof readSavedModel>;
  try {
    info = readSavedModel(input.savedModel);
  } catch (err) {
    return { ok: false, reason: `saved_model.pb is not a readable SavedModel (${(err as Error).message}): re-export it with tf.saved_model.save and upload it again` };
  }
  const mismatches = checkSignature(info, input.expected ?? REFERENCE_SIGNATURE);
  if (mismatches.length > 0) {
    return { ok: false, reason: `the SavedModel's serving signature does not match the contract: ${mismatches.join('; ')}` };
  }
  const graph = info.metaGraphs.find((g) => g.tags.includes('serve')) ?? info.metaGraphs[0];
  const tensorflowVersion = graph?.tensorflowVersion ?? '';
  const image = chooseServing({
    tensorflowVersion,
    accelerated: isAccelerated(spec),
    location: input.location,
    now: input.now,
    serving: spec.serving,
    imageOverride: spec.containerImageUri,
    tfServingImage: input.tfServingImage,
  });
  if (!image.ok) return { ok: false, reason: image.reason };
  return {
    ok: true,
    spec,
    tensorflowVersion,
    serving: image.serving,
    containerImageUri: image.imageUri,
    ...(image.availableUntil ? { imageAvailableUntil: image.availableUntil } : {}),
    notes: image.notes,
  };
}
