/**
 * The one description of dropship's cloud topology: buckets, topics, subscriptions, functions,
 * their triggers and schedules. The local stack builds exactly this on the emulators, and a
 * test holds terraform/ against it, so the two cannot drift apart.
 *
 * Names are logical; deployments may prefix them (terraform's `name_prefix` variable).
 */
export type BucketRole = 'models' | 'images';

export interface TopicSpec {
  name: string;
  /** the topic that undeliverable messages of this topic's push subscriptions go to */
  deadLetterTopic?: string;
  purpose: string;
}

export type TriggerSpec = { kind: 'storage-finalized'; bucket: BucketRole } | { kind: 'pubsub'; topic: string; maxDeliveryAttempts: number };

export interface FunctionSpec {
  /** the Cloud Functions name and the functions-framework target */
  name: string;
  /** the folder under functions/ */
  source: string;
  trigger: TriggerSpec;
  /** environment variables the function reads (each must be set by terraform) */
  env: string[];
  timeoutSeconds: number;
  memory: string;
  /** requests one instance serves at once */
  concurrency: number;
  retryOnFailure: boolean;
}

export interface ScheduleSpec {
  name: string;
  topic: string;
  cron: string;
  purpose: string;
}

export interface Topology {
  buckets: Record<BucketRole, { purpose: string }>;
  topics: TopicSpec[];
  functions: FunctionSpec[];
  schedules: ScheduleSpec[];
}

const GOOGLE_ENV = ['GOOGLE_CLOUD_PROJECT', 'VERTEX_LOCATION'];

export const TOPOLOGY: Topology = {
  buckets: {
    models: { purpose: 'SavedModel versions: <model>/<version>/...' },
    images: { purpose: 'images to label: <job>/<path>/<file> and <job>/_manifest.jsonl' },
  },
  topics: [
    { name: 'model-events', purpose: 'one message per deployment state change' },
    {
      name: 'prediction-results',
      deadLetterTopic: 'undeliverable',
      purpose: 'one message per labeled image, and job-completed messages',
    },
    {
      name: 'prediction-requests',
      deadLetterTopic: 'prediction-requests-dead-letter',
      purpose: 'images waiting for a predict call',
    },
    {
      name: 'prediction-requests-dead-letter',
      deadLetterTopic: 'undeliverable',
      purpose: 'requests that failed every attempt; their images are recorded as ERROR',
    },
    { name: 'reconcile-ticks', deadLetterTopic: 'reconcile-ticks-dead-letter', purpose: 'scheduler ticks for the reconciler' },
    { name: 'reconcile-ticks-dead-letter', purpose: 'reconciler ticks that failed every attempt' },
    {
      name: 'undeliverable',
      purpose: 'dead letters the dead-letter recorder could not record either; kept for an operator to inspect',
    },
  ],
  functions: [
    {
      name: 'model-drop',
      source: 'model-drop',
      trigger: { kind: 'storage-finalized', bucket: 'models' },
      env: [...GOOGLE_ENV, 'MODELS_BUCKET', 'MODEL_EVENTS_TOPIC', 'REQUIRE_COMPLETE_MARKER', 'DEFAULT_DEPLOY_SPEC', 'TF_SERVING_IMAGE'],
      timeoutSeconds: 540,
      memory: '512Mi',
      concurrency: 1,
      retryOnFailure: true,
    },
    {
      name: 'reconciler',
      source: 'reconciler',
      trigger: { kind: 'pubsub', topic: 'reconcile-ticks', maxDeliveryAttempts: 5 },
      env: [...GOOGLE_ENV, 'MODEL_EVENTS_TOPIC'],
      timeoutSeconds: 300,
      memory: '256Mi',
      concurrency: 1,
      retryOnFailure: true,
    },
    {
      name: 'image-intake',
      source: 'image-intake',
      trigger: { kind: 'storage-finalized', bucket: 'images' },
      env: [...GOOGLE_ENV, 'IMAGES_BUCKET', 'PREDICTION_REQUESTS_TOPIC', 'PREDICTION_RESULTS_TOPIC', 'DEFAULT_MODEL'],
      timeoutSeconds: 540,
      memory: '512Mi',
      concurrency: 1,
      retryOnFailure: true,
    },
    {
      name: 'predict-worker',
      source: 'predict-worker',
      trigger: { kind: 'pubsub', topic: 'prediction-requests', maxDeliveryAttempts: 5 },
      env: [...GOOGLE_ENV, 'PREDICTION_RESULTS_TOPIC'],
      timeoutSeconds: 300,
      memory: '1Gi',
      concurrency: 16,
      retryOnFailure: true,
    },
    {
      name: 'dead-letter-recorder',
      source: 'dead-letter-recorder',
      trigger: { kind: 'pubsub', topic: 'prediction-requests-dead-letter', maxDeliveryAttempts: 10 },
      env: [...GOOGLE_ENV, 'PREDICTION_RESULTS_TOPIC'],
      timeoutSeconds: 120,
      memory: '256Mi',
      concurrency: 1,
      retryOnFailure: true,
    },
    {
      name: 'results-ledger',
      source: 'results-ledger',
      trigger: { kind: 'pubsub', topic: 'prediction-results', maxDeliveryAttempts: 5 },
      env: [...GOOGLE_ENV],
      timeoutSeconds: 60,
      memory: '256Mi',
      concurrency: 32,
      retryOnFailure: true,
    },
    {
      // The batch route: submits prepared chunks' BatchPredictionJobs, follows them, imports their output.
      name: 'batch-follower',
      source: 'batch-follower',
      trigger: { kind: 'pubsub', topic: 'reconcile-ticks', maxDeliveryAttempts: 5 },
      env: [...GOOGLE_ENV, 'PREDICTION_RESULTS_TOPIC'],
      timeoutSeconds: 540,
      memory: '512Mi',
      concurrency: 1,
      retryOnFailure: true,
    },
  ],
  schedules: [{ name: 'reconcile', topic: 'reconcile-ticks', cron: '* * * * *', purpose: 'advance pending deployments' }],
};
