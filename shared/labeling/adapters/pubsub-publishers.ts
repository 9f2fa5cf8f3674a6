import type { MessagePublisher } from '#shared/adapters/pubsub-publisher';
import type { RequestPublisher, ResultPublisher } from '../ports';
import type { JobCompletedMessage, ResultMessage } from '#shared/messages/contract';
import { resultAttributes } from '../result';

export function resultPublisher(pub: MessagePublisher, topic: string): ResultPublisher {
  return {
    async publishResult(r) {
      await pub.publish(topic, { type: 'result', ...r } satisfies ResultMessage, resultAttributes(r));
    },
    async publishJobCompleted(job, progress) {
      // counts as in jobs/{job}.counts: a top-level `error` would clash with a result's `error` sentence in the topic's one schema
      const counts = { ok: progress.ok, error: progress.error };
      await pub.publish(topic, { type: 'job-completed', job: job.job, model: job.model, total: job.total ?? counts.ok + counts.error, counts } satisfies JobCompletedMessage, {
        type: 'job-completed',
        job: job.job,
        model: job.model,
      });
    },
  };
}

export function requestPublisher(pub: MessagePublisher, topic: string): RequestPublisher {
  return {
    async publishRequest(body, attributes) {
      await pub.publish(topic, body, attributes);
    },
  };
}
