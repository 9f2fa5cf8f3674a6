import type { MessagePublisher } from '#shared/adapters/pubsub-publisher';
import type { ModelEvent, ModelEventsPublisher } from '../ports';

/** model-events: one JSON message per state change; attributes let subscribers filter. */
export function pubsubModelEvents(publisher: MessagePublisher, topic: string): ModelEventsPublisher {
  return {
    async publish(event: ModelEvent) {
      await publisher.publish(topic, event, { model: event.model, version: event.version, state: event.state });
    },
  };
}
