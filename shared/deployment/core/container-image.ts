/**
 * Which container serves a TensorFlow SavedModel on Vertex AI, decided on a given date.
 *
 * Vertex AI's prebuilt TensorFlow prediction images follow its framework support schedule:
 * each is withdrawn at its end-of-availability date, and no TensorFlow image newer than 2.15 is
 * offered. So the choice depends on the clock (always injected: callers pass `now`):
 * - while a prebuilt image is available: the one for the SavedModel's TF 2.N; older than the
 *   oldest available uses the oldest (a newer runtime loads older SavedModels), newer than the
 *   newest uses the newest, each with a note;
 * - once none is: the official TensorFlow Serving image, mirrored into the project's Artifact
 *   Registry by terraform (terraform/serving-image.tf, TF_SERVING_IMAGE), run as a custom
 *   container (tfServingContainer below).
 * deploy.json's `serving` picks one explicitly; `containerImageUri` replaces the image.
 */

/**
 * Vertex AI prebuilt TensorFlow prediction images (CPU and GPU alike) and the day each stops
 * being available: on and after that date (00:00 UTC) it is not offered. Source:
 * cloud.google.com/vertex-ai/docs/predictions/pre-built-containers and its framework support
 * policy schedule, checked 2026-12-01. 2.11 and older had all ended by 2024-11-15 (2.11's
 * date stands for them; none is used, older versions map to the oldest available image).
 */
export const PREBUILT_TF_IMAGES_CHECKED_ON = '2026-12-01';
export const PREBUILT_TF_IMAGES_SOURCE = 'https://cloud.google.com/vertex-ai/docs/predictions/pre-built-containers';
export const PREBUILT_TF_IMAGES: ReadonlyArray<{ minor: number; availableUntil: string }> = [
  { minor: 11, availableUntil: '2024-11-15' },
  { minor: 12, availableUntil: '2025-06-30' },
  { minor: 13, availableUntil: '2025-11-28' },
  { minor: 14, availableUntil: '2027-01-14' },
  { minor: 15, availableUntil: '2027-01-14' },
];

export type ServingKind = 'prebuilt' | 'tf-serving' | 'custom';

/** What UploadModel's containerSpec carries (google.cloud.aiplatform.v1.ModelContainerSpec). */
export interface ServingContainer {
  imageUri: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ containerPort: number }>;
  predictRoute?: string;
  healthRoute?: string;
}

export type ServingChoice =
  | {
      ok: true;
      serving: ServingKind;
      imageUri: string;
      /** the prebuilt image's end of availability (YYYY-MM-DD); absent for other images */
      availableUntil?: string;
      notes: string[];
    }
  | { ok: false; reason: string };

/**
 * For `serving: tf-serving`, Vertex AI gets `<version folder>/.tf-serving/` as artifactUri, in
 * which model-drop has copied the SavedModel to `1/`: TensorFlow Serving only loads numbered
 * version folders under its --model_base_path, and Vertex AI copies artifactUri to
 * AIP_STORAGE_URI, which is that base path.
 */
export const TF_SERVING_FOLDER = '.tf-serving/';
export const TF_SERVING_MODEL_VERSION = '1';

/** TensorFlow Serving's REST port inside the container; Vertex AI sets AIP_HTTP_PORT to it. */
export const TF_SERVING_REST_PORT = 8501;

const PREBUILT_IMAGE = /\/vertex-ai\/prediction\/tf2-(?:cpu|gpu)\.2-(\d+):/;

function startOfDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** The prebuilt images still offered at `now`, oldest first. */
export function availablePrebuiltMinors(now: Date): number[] {
  return PREBUILT_TF_IMAGES.filter((i) => now.getTime() < startOfDay(i.availableUntil)).map((i) => i.minor);
}

/** The latest end of availability of any prebuilt TensorFlow image: after it, TF Serving is the default. */
export const PREBUILT_TF_IMAGES_END = PREBUILT_TF_IMAGES.map((i) => i.availableUntil)
  .sort()
  .at(-1)!;

export function prebuiltImageUri(minor: number, accelerated: boolean, location: string): string {
  const registry = location.startsWith('europe') ? 'europe' : location.startsWith('asia') ? 'asia' : 'us';
  // the :latest tag is required: Vertex AI publishes these images under it only
  return `${registry}-docker.pkg.dev/vertex-ai/prediction/tf2-${accelerated ? 'gpu' : 'cpu'}.2-${minor}:latest`;
}

/** The end of availability of a prebuilt TensorFlow image URI, or undefined for any other image. */
export function prebuiltImageAvailableUntil(imageUri: string): string | undefined {
  const m = PREBUILT_IMAGE.exec(imageUri);
  if (!m) return undefined;
  const minor = Number(m[1]);
  return PREBUILT_TF_IMAGES.find((i) => i.minor === minor)?.availableUntil ?? (minor < PREBUILT_TF_IMAGES[0]!.minor ? PREBUILT_TF_IMAGES[0]!.availableUntil : undefined);
}

/** The GPU build of the official TensorFlow Serving image is the same tag with `-gpu`. */
export function tfServingImageFor(cpuImage: string, accelerated: boolean): string {
  return accelerated && !cpuImage.endsWith('-gpu') ? `${cpuImage}-gpu` : cpuImage;
}

export function chooseServing(args: {
  tensorflowVersion: string;
  accelerated: boolean;
  location: string;
  now: Date;
  /** deploy.json's `serving` */
  serving?: 'prebuilt' | 'tf-serving' | undefined;
  /** deploy.json's `containerImageUri` */
  imageOverride?: string | undefined;
  /** the mirrored TensorFlow Serving image (TF_SERVING_IMAGE), CPU tag */
  tfServingImage?: string | undefined;
}): ServingChoice {
  const available = availablePrebuiltMinors(args.now);
  const tfServing = (notes: string[]): ServingChoice => {
    const image = args.imageOverride ?? (args.tfServingImage ? tfServingImageFor(args.tfServingImage, args.accelerated) : undefined);
    if (!image) {
      return {
        ok: false,
        reason: `serving on TensorFlow Serving needs its image: apply terraform/serving-image.tf (it sets TF_SERVING_IMAGE on model-drop) or set containerImageUri in deploy.json${notes.length ? ` (${notes.join('; ')})` : ''}`,
      };
    }
    return { ok: true, serving: 'tf-serving', imageUri: image, notes };
  };
  if (args.serving === 'tf-serving') return tfServing([]);
  if (args.imageOverride) return { ok: true, serving: 'custom', imageUri: args.imageOverride, notes: [] };
  if (available.length === 0) {
    const ended = `Vertex AI's prebuilt TensorFlow images ended on ${PREBUILT_TF_IMAGES_END}`;
    if (args.serving === 'prebuilt') {
      return { ok: false, reason: `deploy.json asks for serving "prebuilt", but ${ended} (${PREBUILT_TF_IMAGES_SOURCE}): use "serving": "tf-serving" or set containerImageUri` };
    }
    return tfServing([`${ended}; serving on TensorFlow Serving`]);
  }
  const oldest = available[0]!;
  const newest = available.at(-1)!;
  const choice = (minor: number, note?: string): ServingChoice => ({
    ok: true,
    serving: 'prebuilt',
    imageUri: prebuiltImageUri(minor, args.accelerated, args.location),
    availableUntil: PREBUILT_TF_IMAGES.find((i) => i.minor === minor)!.availableUntil,
    notes: note ? [note] : [],
  });
  const m = /^(\d+)\.(\d+)/.exec(args.tensorflowVersion.trim());
  if (!m) return choice(newest, `the SavedModel does not record its TensorFlow version; using the prebuilt TF 2.${newest} image`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 2) {
    // TF 1.x graphs have no tf2 prebuilt image; TensorFlow Serving loads them.
    if (args.serving !== 'prebuilt' && args.tfServingImage) return tfServing([`TensorFlow ${args.tensorflowVersion} has no prebuilt Vertex AI image; serving on TensorFlow Serving`]);
    return {
      ok: false,
      reason: `the SavedModel was written by TensorFlow ${args.tensorflowVersion}, which has no prebuilt Vertex AI image: set "serving": "tf-serving" or containerImageUri in deploy.json`,
    };
  }
  if (minor < oldest) {
    const own = PREBUILT_TF_IMAGES.find((i) => i.minor === minor)?.availableUntil ?? PREBUILT_TF_IMAGES[0]!.availableUntil;
    return choice(oldest, `TensorFlow ${args.tensorflowVersion}'s prebuilt image is no longer available (ended by ${own}); using TF 2.${oldest}, the oldest available`);
  }
  if (minor > newest) return choice(newest, `TensorFlow ${args.tensorflowVersion} is newer than the newest prebuilt image; using TF 2.${newest}`);
  return choice(minor);
}

/**
 * The containerSpec for a version. Prebuilt and custom images get the image alone (they bring
 * their own server); TensorFlow Serving gets what Vertex AI requires of a custom container: the
 * server reading the model from AIP_STORAGE_URI (Vertex expands `$(VAR)` in args), listening
 * on the declared port, with the predict and health routes of its REST API. Polling the model
 * folder once is enough: a Vertex model's artifacts never change.
 */
export function servingContainer(serving: ServingKind, imageUri: string, modelName: string): ServingContainer {
  if (serving !== 'tf-serving') return { imageUri };
  return {
    imageUri,
    command: ['/usr/bin/tensorflow_model_server'],
    args: [`--model_name=${modelName}`, '--model_base_path=$(AIP_STORAGE_URI)', `--rest_api_port=${TF_SERVING_REST_PORT}`, '--port=8500', '--file_system_poll_wait_seconds=0'],
    ports: [{ containerPort: TF_SERVING_REST_PORT }],
    predictRoute: `/v1/models/${modelName}:predict`,
    healthRoute: `/v1/models/${modelName}`,
  };
}

/** Days from `now` until the image stops being offered (negative once past), or undefined when it has no end date. */
export function daysUntilImageEnds(imageUri: string, now: Date): number | undefined {
  const until = prebuiltImageAvailableUntil(imageUri);
  if (!until) return undefined;
  return Math.floor((startOfDay(until) - now.getTime()) / 86_400_000);
}
