import type { MessagePublisher } from '#shared/adapters/pubsub-publisher';
import type { RequestPublisher, ResultPublisher } from '../ports';
import { resultAttributes } from '../result';

export function resultPublisher(pub: MessagePublisher, topic: string): ResultPublisher {
  return {
    async publishResult(r) {
      await pub.publish(topic, { type: 'result', ...r }, resultAttributes(r));
    },
    async publishJobCompleted(job, progress) {
      await pub.publish(
        topic,
        { type: 'job-completed', job: job.job, model: job.model, total: job.total ?? progress.ok + progress.error, ...progress },
        { type: 'job-completed', job: job.job },
      );
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
