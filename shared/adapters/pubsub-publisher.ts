import type { PubSub, Topic } from '@google-cloud/pubsub';

/** The port the core publishes through: a JSON body and string attributes. */
export interface MessagePublisher {
  publish(topic: string, body: unknown, attributes?: Record<string, string>): Promise<string>;
}

/** Publishes JSON messages with the real client; topics exist already (terraform, or `dropship up`). */
export function pubsubPublisher(pubsub: PubSub): MessagePublisher {
  const topics = new Map<string, Topic>();
  return {
    async publish(topicName, body, attributes) {
      let topic = topics.get(topicName);
      if (!topic) {
        topic = pubsub.topic(topicName);
        topics.set(topicName, topic);
      }
      return topic.publishMessage({ json: body, attributes });
    },
  };
}
