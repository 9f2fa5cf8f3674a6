import { VERSION_STATES } from '#shared/deployment/core/state-machine';
import { UsageError } from './cli-errors';

/** The topics `dropship subscribe` reads, by the name users give them. */
export const SUBSCRIBE_TOPICS = { results: 'prediction-results', 'model-events': 'model-events' } as const;
export type SubscribeTopic = keyof typeof SUBSCRIBE_TOPICS;

export interface FilterFlags {
  job?: string;
  status?: string;
  label?: string;
  model?: string;
}

/** attribute name -> the value it must equal; every entry must hold (AND). */
export type AttributeMatch = Record<string, string>;

/**
 * Which message attributes the flags select (shared/messages/contract.ts lists the attributes
 * each topic's messages carry): on results `job`, `status`, `label`, `model`; on model-events
 * `model` and `state` (given as --status).
 */
export function attributeMatch(topic: SubscribeTopic, flags: FilterFlags): AttributeMatch {
  const match: AttributeMatch = {};
  if (topic === 'results') {
    if (flags.job !== undefined) match.job = flags.job;
    if (flags.status !== undefined) match.status = oneOf('--status', flags.status.toUpperCase(), ['OK', 'ERROR']);
    if (flags.label !== undefined) match.label = flags.label;
    if (flags.model !== undefined) match.model = flags.model;
  } else {
    if (flags.job !== undefined || flags.label !== undefined) throw new UsageError('--job and --label select results; model-events messages carry model, version and state');
    if (flags.model !== undefined) match.model = flags.model;
    if (flags.status !== undefined) match.state = oneOf('--status', flags.status.toUpperCase(), VERSION_STATES);
  }
  for (const [k, v] of Object.entries(match)) {
    // Pub/Sub filter strings are quoted; refusing quotes and backslashes keeps quoting trivial
    if (v === '' || /["\\\n]/.test(v)) throw new UsageError(`the ${k} to match must be non-empty and hold no quote, backslash or newline: ${JSON.stringify(v)}`);
  }
  return match;
}

/**
 * The subscription filter Pub/Sub applies server-side, in its filter syntax
 * (cloud.google.com/pubsub/docs/subscription-message-filter), e.g.
 * `attributes.job = "J" AND attributes.status = "ERROR"`. Empty when nothing is selected.
 */
export function pubsubFilter(match: AttributeMatch): string {
  return Object.entries(match)
    .map(([k, v]) => `attributes.${k} = "${v}"`)
    .join(' AND ');
}

/** The same selection applied to a received message (the emulator ignores subscription filters). */
export function matches(match: AttributeMatch, attributes: Record<string, string>): boolean {
  return Object.entries(match).every(([k, v]) => attributes[k] === v);
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}
