import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { startPushBridge, type PushBridge } from '#local/functions-host/push-bridge';
import { TOPOLOGY, type Topology } from '#shared/topology';
import { pushSubscriptionName } from './local-names';

const ALREADY_EXISTS = 6;
const FINALIZED = 'google.cloud.storage.object.v1.finalized';

/** What the storage triggers need from the Storage emulator (its in-process handle). */
export interface NotificationTarget {
  addNotification(n: { bucket: string; url: string; eventTypes?: string[]; objectNamePrefix?: string }): Promise<void>;
}

/** What createTopology leaves running: a push bridge per Pub/Sub-triggered function. */
export interface LocalTopology {
  /** function name -> its bridge */
  readonly bridges: Record<string, PushBridge>;
  /** stops the bridges (the emulators keep what was created) */
  close(): Promise<void>;
}

/**
 * Builds TOPOLOGY, and nothing else, on the emulators: buckets, topics, a subscription per
 * Pub/Sub-triggered function (with its dead-letter policy) delivered to the function by a push
 * bridge (local/functions-host/push-bridge.ts) with the function's concurrency, and a finalize
 * notification per Storage-triggered function. Safe to run again on a restarted stack: what
 * exists is reused.
 *
 * The subscriptions are pull subscriptions because the emulator's own push delivers at most two
 * messages at a time per subscription; Google Cloud pushes (terraform's push subscriptions)
 * deliver up to the function's concurrency at once, and the bridge does the same.
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
}): Promise<LocalTopology> {
  const topology = opts.topology ?? TOPOLOGY;
  for (const bucket of Object.values(opts.buckets)) {
    await opts.storage.createBucket(bucket).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  }
  for (const topic of topology.topics) {
    await opts.pubsub.createTopic(topic.name).catch(ignoreAlreadyExists);
  }
  const bridges: Record<string, PushBridge> = {};
  const close = async () => {
    await Promise.all(Object.values(bridges).map((b) => b.close()));
  };
  try {
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
      // A push request times out with the ack deadline: give the function its whole timeout.
      const ackDeadlineSeconds = Math.min(600, fn.timeoutSeconds);
      const options = {
        ackDeadlineSeconds,
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
        // An older stack made it a push subscription: an empty push config makes it pull.
        await opts.pubsub.subscription(name).modifyPushConfig({});
      }
      bridges[fn.name] = startPushBridge({
        subscription: opts.pubsub.subscription(name),
        url,
        concurrency: fn.concurrency,
        timeoutMs: ackDeadlineSeconds * 1000,
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { bridges, close };
}

function ignoreAlreadyExists(err: unknown): void {
  if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
}
