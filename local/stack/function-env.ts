import { TOPOLOGY, type FunctionSpec } from '#shared/topology';

/** Where the stack's parts listen, as the functions need to know it. */
export interface StackAddresses {
  project: string;
  region: string;
  pubsubEmulatorHost: string;
  firestoreEmulatorHost: string;
  storageUrl: string;
  vertexEndpoint: string;
  buckets: { models: string; images: string };
  defaultModel?: string;
}

/**
 * The environment the functions run with on the local stack: the same variables terraform
 * sets on Google Cloud (TOPOLOGY lists them per function), plus the emulator hosts the Google
 * client libraries read. Returns the values and the names TOPOLOGY asks for that the stack
 * does not know how to fill (left unset, so the function's own default applies).
 */
export function functionEnv(addr: StackAddresses, functions: FunctionSpec[] = TOPOLOGY.functions): { env: Record<string, string>; unknown: string[] } {
  const known: Record<string, string> = {
    GOOGLE_CLOUD_PROJECT: addr.project,
    GCLOUD_PROJECT: addr.project,
    VERTEX_LOCATION: addr.region,
    VERTEX_API_ENDPOINT: addr.vertexEndpoint,
    PUBSUB_EMULATOR_HOST: addr.pubsubEmulatorHost,
    FIRESTORE_EMULATOR_HOST: addr.firestoreEmulatorHost,
    STORAGE_EMULATOR_HOST: addr.storageUrl,
    // No metadata server exists off Google Cloud: skip the client libraries' probe for one.
    METADATA_SERVER_DETECTION: 'none',
    // Images dropped without a _job.json are labeled by this model; locally, the demo model.
    DEFAULT_MODEL: addr.defaultModel ?? 'digits',
    // As terraform's defaults: a folder copied straight in deploys without a marker.
    REQUIRE_COMPLETE_MARKER: 'false',
    DEFAULT_DEPLOY_SPEC: '{}',
    // The Vertex AI emulator serves model.onnx whatever the image: any pinned name will do.
    TF_SERVING_IMAGE: 'localhost/tensorflow/serving:2.19.1',
    MODELS_BUCKET: addr.buckets.models,
    IMAGES_BUCKET: addr.buckets.images,
    ...topicEnv(),
  };
  const wanted = new Set(functions.flatMap((f) => f.env));
  const unknown = [...wanted].filter((name) => !(name in known));
  return { env: known, unknown };
}

/** MODEL_EVENTS_TOPIC=model-events and so on, for every topic in TOPOLOGY. */
export function topicEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of TOPOLOGY.topics) out[`${t.name.replace(/-/g, '_').toUpperCase()}_TOPIC`] = t.name;
  return out;
}
