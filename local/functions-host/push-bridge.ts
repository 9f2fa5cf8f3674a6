import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { v1, type Subscription } from '@google-cloud/pubsub';
import type { google } from '@google-cloud/pubsub/build/protos/protos';
import { postOnce } from '#local/emulators/http-post';

type ReceivedMessage = google.pubsub.v1.IReceivedMessage;

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
 *
 * Why unary Pull, asking for only as many messages as there are free slots, and not the
 * client's streaming pull: the emulator does not hold back a streaming pull to its
 * maxOutstandingMessages, so behind a busy function it hands over the whole backlog, which
 * waits in the client while its ack deadlines run out; every expired message goes back into
 * the emulator's retry queue, whose cost grows with its length (a 100,000-image job's results
 * spent the emulator's CPU there, in MessageBacklog.updateExpiredAckDeadlines, and the job
 * slowed to a third). With Pull a message is leased only when a slot is free, so it is posted
 * at once, as Google Cloud's push posts a message it has taken from the backlog.
 */
export interface PushBridge {
  /** pushes answered 2xx (acked) and otherwise (nacked) */
  readonly counts: { acked: number; nacked: number };
  close(): Promise<void>;
}

/** how long one Pull waits for messages (the emulator answers sooner when any arrive) */
const PULL_WAIT_MS = 30_000;
/** acks and nacks are sent together, at most this long after their push answered */
const ACK_FLUSH_MS = 20;
const MAX_ACK_IDS = 1_000;

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
  const subscription = opts.subscription.name;
  const client = opts.subscription.pubsub.getClientConfig().then((cfg) => new v1.SubscriberClient(cfg as ConstructorParameters<typeof v1.SubscriberClient>[0]));
  let closed = false;
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const toAck: string[] = [];
  const toNack: string[] = [];
  let flushTimer: NodeJS.Timeout | undefined;

  const flush = async () => {
    flushTimer = undefined;
    const c = await client;
    const acks = toAck.splice(0);
    const nacks = toNack.splice(0);
    // A lost ack or nack is a redelivery, as on Google Cloud: nothing to do but go on.
    // Not retried for minutes (gax's default) when the emulator is gone, so close() never hangs on them.
    const call = { timeout: 5_000, retry: null };
    for (let i = 0; i < acks.length; i += MAX_ACK_IDS) await c.acknowledge({ subscription, ackIds: acks.slice(i, i + MAX_ACK_IDS) }, call).catch(() => undefined);
    for (let i = 0; i < nacks.length; i += MAX_ACK_IDS) await c.modifyAckDeadline({ subscription, ackIds: nacks.slice(i, i + MAX_ACK_IDS), ackDeadlineSeconds: 0 }, call).catch(() => undefined);
  };
  const settle = (ackId: string, ok: boolean) => {
    (ok ? toAck : toNack).push(ackId);
    flushTimer ??= setTimeout(() => void flush(), ACK_FLUSH_MS);
  };

  // The lease runs from the Pull and is not extended: a push gets the ack deadline less a second,
  // so its ack reaches the emulator before the lease ends.
  const postTimeoutMs = Math.max(1_000, opts.timeoutMs - 1_000);
  const deliver = async (m: ReceivedMessage) => {
    const out = await postOnce(target(), pushBody(m, subscription), { agent, headers: { 'content-type': 'application/json' }, timeoutMs: postTimeoutMs });
    const ok = 'status' in out && out.status >= 200 && out.status < 300;
    if (ok) counts.acked++;
    else counts.nacked++;
    settle(m.ackId!, ok);
  };

  const loop = async () => {
    const c = await client;
    let idle = 0;
    while (!closed) {
      const free = opts.concurrency - inFlight;
      if (free <= 0) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      let received: ReceivedMessage[] = [];
      try {
        const [res] = await c.pull({ subscription, maxMessages: free }, { timeout: PULL_WAIT_MS, retry: null });
        received = res.receivedMessages ?? [];
      } catch {
        if (closed) return;
        // deadline passed with nothing to deliver, or the emulator is restarting: ask again shortly
      }
      if (closed) {
        // taken after close began: handed back at once rather than left to expire
        for (const m of received) settle(m.ackId!, false);
        return;
      }
      // The emulator can answer an empty Pull at once: back off a little while idle.
      if (received.length === 0) {
        idle = Math.min(200, idle + 20);
        await sleep(idle);
        continue;
      }
      idle = 0;
      for (const m of received) {
        inFlight++;
        void deliver(m).finally(() => {
          inFlight--;
          const wake = slotFreed;
          slotFreed = undefined;
          wake?.();
        });
      }
    }
  };
  const running = loop().catch(() => undefined);

  return {
    counts,
    close: async () => {
      closed = true;
      slotFreed?.();
      const c = await client;
      await Promise.race([running, sleep(1_000)]);
      clearTimeout(flushTimer);
      await flush();
      await c.close();
      agent.destroy();
    },
  };
}

function pushBody(m: ReceivedMessage, subscription: string): Buffer {
  const msg = m.message ?? {};
  const t = msg.publishTime;
  const publishTime = t ? new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString() : new Date().toISOString();
  return Buffer.from(
    JSON.stringify({
      message: {
        data: Buffer.from(msg.data ?? new Uint8Array()).toString('base64'),
        attributes: msg.attributes ?? {},
        messageId: msg.messageId,
        publishTime,
      },
      subscription,
      // Only set when the subscription has a dead-letter policy, as on Google Cloud.
      ...(m.deliveryAttempt ? { deliveryAttempt: m.deliveryAttempt } : {}),
    }),
  );
}
