import { PermanentError } from '#shared/errors';
import { predictionRequestSchema, type PredictionRequest } from './request-message';

/**
 * The part of a messagePublished event's data (MessagePublishedData) dropship reads, as plain
 * fields: the function's handler passes `event.data` in, so this module knows no CloudEvent
 * types. `deliveryAttempt` is what a push subscription with a dead-letter policy adds.
 */
export interface PublishedMessageData {
  message?: { data?: string; attributes?: Record<string, string>; messageId?: string };
  deliveryAttempt?: unknown;
}

/** A published message's id, attributes, and data as text and as JSON (undefined when it is not JSON). `eventId` stands in for a missing messageId. */
export function decodeMessage(data: PublishedMessageData | undefined, eventId: string): { messageId: string; attributes: Record<string, string>; raw: string; json: unknown } {
  const message = data?.message;
  const raw = message?.data ? Buffer.from(message.data, 'base64').toString('utf8') : '';
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  return { messageId: message?.messageId ?? eventId, attributes: { ...(message?.attributes ?? {}) }, raw, json };
}

/** Decodes the prediction request a published message carries; bad bodies are permanent. */
export function decodeRequest(data: PublishedMessageData | undefined, eventId: string): { request: PredictionRequest; messageId: string; deliveryAttempt?: number } {
  const { messageId, raw, json } = decodeMessage(data, eventId);
  if (json === undefined) throw new PermanentError(`prediction request is not JSON: ${raw.slice(0, 200)}`, 'BAD_MESSAGE');
  const parsed = predictionRequestSchema.safeParse(json);
  if (!parsed.success) throw new PermanentError(`bad prediction request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'BAD_MESSAGE');
  const attempt = data?.deliveryAttempt;
  return {
    request: parsed.data,
    messageId,
    ...(typeof attempt === 'number' ? { deliveryAttempt: attempt } : {}),
  };
}
