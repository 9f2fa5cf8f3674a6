import type { CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { PermanentError } from '#shared/errors';
import { predictionRequestSchema, type PredictionRequest } from './core/request-message';

/** What a messagePublished CloudEvent carries: its id, attributes, and data as text and as JSON (undefined when it is not JSON). */
export function messageFromEvent(event: CloudEvent<MessagePublishedData>): { messageId: string; attributes: Record<string, string>; raw: string; json: unknown } {
  const message = event.data?.message;
  const raw = message?.data ? Buffer.from(message.data, 'base64').toString('utf8') : '';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  return { messageId: message?.messageId ?? event.id, attributes: { ...(message?.attributes ?? {}) }, raw, json };
}

/** Decodes the prediction request a messagePublished CloudEvent carries; bad bodies are permanent. */
export function requestFromEvent(event: CloudEvent<MessagePublishedData>): { request: PredictionRequest; messageId: string; deliveryAttempt?: number } {
  const { messageId, raw, json } = messageFromEvent(event);
  if (json === undefined) throw new PermanentError(`prediction request is not JSON: ${raw.slice(0, 200)}`, 'BAD_MESSAGE');
  const parsed = predictionRequestSchema.safeParse(json);
  if (!parsed.success) throw new PermanentError(`bad prediction request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'BAD_MESSAGE');
  const attempt = (event.data as { deliveryAttempt?: unknown } | undefined)?.deliveryAttempt;
  return {
    request: parsed.data,
    messageId,
    ...(typeof attempt === 'number' ? { deliveryAttempt: attempt } : {}),
  };
}
