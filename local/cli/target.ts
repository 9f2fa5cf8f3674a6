import type { Command } from 'commander';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { resolveDataDir } from '#local/stack/data-dir';
import { findRunningStack, type StackInfo } from '#local/stack/stack-file';
import { UsageError } from './cli-errors';

/** Flags every command that talks to a deployment accepts. */
export interface TargetFlags {
  data?: string;
  local?: boolean;
  project?: string;
  region?: string;
  modelsBucket?: string;
  imagesBucket?: string;
}

/**
 * Where a command acts: the local stack (found through <data>/stack.json), or a Google Cloud
 * project reached with Application Default Credentials.
 */
export interface Target {
  kind: 'local' | 'cloud';
  project: string;
  region: string;
  /** host:port of the Vertex AI API when it is not Google's regional endpoint */
  vertexApiEndpoint?: string;
  stack?: StackInfo;
  bucket(role: 'models' | 'images'): string;
  topic(name: string): string;
  storage(): Storage;
  firestore(): Firestore;
  pubsub(): PubSub;
  close(): Promise<void>;
}

/**
 * The client libraries, loaded when a command first asks for one (0.1-0.3 s each to load):
 * `status` never loads Pub/Sub or Storage, `--help` none of them.
 */
const clients = {
  firestore: () => require('@google-cloud/firestore') as typeof import('@google-cloud/firestore'),
  pubsub: () => require('@google-cloud/pubsub') as typeof import('@google-cloud/pubsub'),
  storage: () => require('@google-cloud/storage') as typeof import('@google-cloud/storage'),
};

export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', "the local stack's data folder (default: $DROPSHIP_DATA or ./.dropship)")
    .option('--local', 'use the local stack even when a project is set in the environment')
    .option('--project <id>', 'a Google Cloud project (default: $GOOGLE_CLOUD_PROJECT or $CLOUDSDK_CORE_PROJECT); without one, the local stack')
    .option('--region <region>', 'the Vertex AI region (default: $VERTEX_LOCATION, $CLOUDSDK_COMPUTE_REGION or us-central1)')
    .option('--models-bucket <name>', 'the models bucket on Google Cloud (default: $MODELS_BUCKET)')
    .option('--images-bucket <name>', 'the images bucket on Google Cloud (default: $IMAGES_BUCKET)');
}

export async function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const project = flags.local ? undefined : (flags.project ?? env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT);
  if (project) return cloudTarget(project, flags, env);
  const stack = await findRunningStack(resolveDataDir(flags.data, env));
  return localTarget(stack);
}

function localTarget(stack: StackInfo): Target {
  // The Google clients find emulators through these variables; a stale value inherited from
  // the caller's shell (another emulator) must not win over the stack's own.
  process.env.PUBSUB_EMULATOR_HOST = stack.pubsubEmulatorHost;
  process.env.FIRESTORE_EMULATOR_HOST = stack.firestoreEmulatorHost;
  process.env.STORAGE_EMULATOR_HOST = stack.storage.url;
  // No metadata server exists off Google Cloud: skip the client libraries' probe for one.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  return makeTarget({
    kind: 'local',
    project: stack.project,
    region: stack.region,
    vertexApiEndpoint: stack.vertex.endpoint,
    stack,
    buckets: stack.buckets,
    topics: stack.topics,
    storage: () => new (clients.storage().Storage)({ apiEndpoint: stack.storage.url, projectId: stack.project }),
  });
}

function cloudTarget(project: string, flags: TargetFlags, env: NodeJS.ProcessEnv): Target {
  for (const v of ['PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST', 'STORAGE_EMULATOR_HOST']) delete process.env[v];
  const region = flags.region ?? env.VERTEX_LOCATION ?? env.CLOUDSDK_COMPUTE_REGION ?? 'us-central1';
  const models = flags.modelsBucket ?? env.MODELS_BUCKET;
  const images = flags.imagesBucket ?? env.IMAGES_BUCKET;
  return makeTarget({
    kind: 'cloud',
    project,
    region,
    buckets: { models, images },
    topics: {},
    storage: () => new (clients.storage().Storage)({ projectId: project }),
  });
}

function makeTarget(t: {
  kind: 'local' | 'cloud';
  project: string;
  region: string;
  vertexApiEndpoint?: string;
  stack?: StackInfo;
  buckets: { models?: string; images?: string };
  topics: Record<string, string>;
  storage: () => Storage;
}): Target {
  let storage: Storage | undefined;
  let firestore: Firestore | undefined;
  let pubsub: PubSub | undefined;
  return {
    kind: t.kind,
    project: t.project,
    region: t.region,
    ...(t.vertexApiEndpoint ? { vertexApiEndpoint: t.vertexApiEndpoint } : {}),
    ...(t.stack ? { stack: t.stack } : {}),
    bucket(role) {
      const name = t.buckets[role];
      if (!name) {
        throw new UsageError(`no ${role} bucket: pass --${role}-bucket or set ${role.toUpperCase()}_BUCKET`);
      }
      return name;
    },
    topic: (name) => t.topics[name] ?? name,
    storage: () => (storage ??= t.storage()),
    firestore: () => (firestore ??= new (clients.firestore().Firestore)({ projectId: t.project })),
    pubsub: () => (pubsub ??= new (clients.pubsub().PubSub)({ projectId: t.project })),
    async close() {
      await Promise.allSettled([firestore?.terminate(), pubsub?.close()]);
    },
  };
}
