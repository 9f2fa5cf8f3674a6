import { Agent } from 'node:http';
import { Duration, type Message, type Subscription } from '@google-cloud/pubsub';
import { postOnce } from '#local/emulators/http-post';

/**
 * Delivers a pull subscription's messages to a function URL the way a Pub/Sub push
 * subscription does on Google Cloud: one POST per message in push format
 * ({message: {data, attributes, messageId, publishTime}, subscription, deliveryAttempt}), ack on
 * 2xx, nack otherwise (so the subscription counts the attempt and dead-letters after its
 * maxDeliveryAttempts), a request that outlives the ack deadline counts as failed, and up to
 * `concurrency` messages in flight at once.
 *
 * Why not the emulator's own push: the gcloud Pub/Sub emulator pushes with two serial loops per
 * subscription (measured: never more than 2 pushes in flight), while Google Cloud pushes many
 * messages at once to a function that serves `concurrency` requests per instance. The predict
 * worker batches concurrent deliveries, so the local stack must deliver concurrently too.
 */
export interface PushBridge {
  /** pushes answered 2xx (acked) and otherwise (nacked) */
  readonly counts: { acked: number; nacked: number };
  close(): Promise<void>;
}

export function startPushBridge(opts: {
  subscription: Subscription;
  /** the function's URL; a function so a restarted function's new address is used */
  url: string | (() => string);
  /** requests one instance serves at once (TOPOLOGY's `concurrency`) */
  concurrency: number;
  /** how long a push may take before it counts as failed: the subscription's ack deadline */
  timeoutMs: number;
}): PushBridge {
  const counts = { acked: 0, nacked: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const target = typeof opts.url === 'string' ? () => opts.url as string : opts.url;
  const sub = opts.subscription;
  const subscriptionPath = sub.name;
  // The client extends leases while a POST runs; the POST's own timeout ends it at the deadline.
  // The client would otherwise lease messages for 10 s at first and extend from there; messages
  // it holds back for flow control then expire and come again while their first copy still
  // waits. Lease them for the subscription's ack deadline, as a push delivery has.
  const deadline = Duration.from({ seconds: Math.min(600, Math.max(10, Math.ceil(opts.timeoutMs / 1000))) });
  sub.setOptions({
    flowControl: { maxMessages: opts.concurrency, allowExcessMessages: false },
    minAckDeadline: deadline,
    maxAckDeadline: deadline,
  });
  sub.on('message', (m: Message) => {
    void post(target(), pushBody(m, subscriptionPath), agent, opts.timeoutMs).then((status) => {
      if (status >= 200 && status < 300) {
        counts.acked++;
        m.ack();
      } else {
        counts.nacked++;
        m.nack();
      }
    });
  });
  // Stream errors are retried by the client; an unhandled 'error' event would end the process.
  sub.on('error', () => undefined);
  return {
    counts,
    close: async () => {
      await sub.close();
      agent.destroy();
    },
  };
}

function pushBody(m: Message, subscription: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      message: {
        data: m.data.toString('base64'),
        attributes: m.attributes,
        messageId: m.id,
        publishTime: m.publishTime.toISOString(),
      },
      subscription,
      // Only set when the subscription has a dead-letter policy, as on Google Cloud.
      ...(m.deliveryAttempt ? { deliveryAttempt: m.deliveryAttempt } : {}),
    }),
  );
}

/** Resolves with the answer's status, or 0 when no answer came (refused, reset, timed out). */
async function post(url: string, body: Buffer, agent: Agent, timeoutMs: number): Promise<number> {
  const out = await postOnce(url, body, { agent, headers: { 'content-type': 'application/json' }, timeoutMs });
  return 'status' in out ? out.status : 0;
}
