import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { TOPOLOGY, type Topology } from '#shared/topology';
import { pushSubscriptionName } from './local-names';

const ALREADY_EXISTS = 6;
const FINALIZED = 'google.cloud.storage.object.v1.finalized';

/** What the storage triggers need from the Storage emulator (its in-process handle). */
export interface NotificationTarget {
  addNotification(n: { bucket: string; url: string; eventTypes?: string[]; objectNamePrefix?: string }): Promise<void>;
}

/**
 * Builds TOPOLOGY, and nothing else, on the emulators: buckets, topics, a push subscription
 * per Pub/Sub-triggered function (with its dead-letter policy), and a finalize notification per
 * Storage-triggered function. Safe to run again on a restarted stack: what exists is reused,
 * and push endpoints are moved to where the functions listen now.
 */
export async function createTopology(opts: {
  project: string;
  pubsub: PubSub;
  storage: Storage;
  notifications: NotificationTarget;
  buckets: { models: string; images: string };
  /** function name -> the URL it is served on */
  functionUrls: Record<string, string>;
  topology?: Topology;
}): Promise<void> {
  const topology = opts.topology ?? TOPOLOGY;
  for (const bucket of Object.values(opts.buckets)) {
    await opts.storage.createBucket(bucket).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  }
  for (const topic of topology.topics) {
    await opts.pubsub.createTopic(topic.name).catch(ignoreAlreadyExists);
  }
  for (const fn of topology.functions) {
    const url = opts.functionUrls[fn.name];
    if (!url) throw new Error(`function ${fn.name} is not served`);
    if (fn.trigger.kind === 'storage-finalized') {
      await opts.notifications.addNotification({ bucket: opts.buckets[fn.trigger.bucket], url, eventTypes: [FINALIZED] });
      continue;
    }
    const trigger = fn.trigger;
    const topicSpec = topology.topics.find((t) => t.name === trigger.topic);
    if (!topicSpec) throw new Error(`function ${fn.name} is triggered by unknown topic ${trigger.topic}`);
    const name = pushSubscriptionName(fn.name);
    const options = {
      pushConfig: { pushEndpoint: url },
      // The push request times out with the ack deadline: give the function its whole timeout.
      ackDeadlineSeconds: Math.min(600, fn.timeoutSeconds),
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } },
      ...(topicSpec.deadLetterTopic
        ? {
            deadLetterPolicy: {
              deadLetterTopic: `projects/${opts.project}/topics/${topicSpec.deadLetterTopic}`,
              maxDeliveryAttempts: trigger.maxDeliveryAttempts,
            },
          }
        : {}),
    };
    try {
      await opts.pubsub.topic(trigger.topic).createSubscription(name, options);
    } catch (err) {
      ignoreAlreadyExists(err);
      await opts.pubsub.subscription(name).modifyPushConfig({ pushEndpoint: url });
    }
  }
}

function ignoreAlreadyExists(err: unknown): void {
  if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
}
