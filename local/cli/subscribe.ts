import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { errorMessage } from '#shared/errors';
import { UsageError } from './cli-errors';
import { messageKey, RedeliveryGuard } from './redelivery-guard';
import { runCommand } from './run-command';
import { attributeMatch, matches, pubsubFilter, SUBSCRIBE_TOPICS, type AttributeMatch, type FilterFlags, type SubscribeTopic } from './subscription-filter';
import { addTargetOptions, resolveTarget, type Target, type TargetFlags } from './target';

interface SubscribeFlags extends TargetFlags, FilterFlags {
  topic: SubscribeTopic;
  topicName?: string;
  json?: boolean;
  format?: 'text' | 'jsonl';
  fromNow?: boolean;
  since?: Date;
  subscription?: string;
  keep?: boolean;
}

/** Pub/Sub deletes a subscription nobody has pulled from for this long: a killed CLI leaves nothing for good (1 day is the minimum). */
const ABANDONED_TTL_SECONDS = 24 * 3600;

export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship subscribe')
      .description(
        'stream messages from the results (or model-events) topic as a subscriber sees them, filtered on their attributes, until Ctrl-C. ' +
          'Creates a subscription with the filter (server-side on Google Cloud; on the local stack, whose emulator ignores filters, the ' +
          'same filter is applied here), drops redelivered copies (by resultId), acknowledges, and deletes the subscription it created when it stops.',
      )
      .addOption(new Option('--topic <topic>', 'which topic').choices(Object.keys(SUBSCRIBE_TOPICS)).default('results'))
      .option('--job <job>', 'results of this job only')
      .option('--status <status>', 'results: OK or ERROR; model-events: a state such as DEPLOYED or FAILED')
      .option('--label <label>', 'results with this label only')
      .option('--model <model>', 'results of jobs using this dropship model, or events of this model')
      .option('--json', 'one JSON object per line: the message body as published')
      .addOption(new Option('--format <format>', 'text (the default) or jsonl (the same as --json)').choices(['text', 'jsonl']))
      .option('--from-now', 'only messages published from now on (the default)')
      .option('--since <time>', 'first replay what the topic retained since this time (RFC 3339, or 30s / 10m / 2h / 1d ago); needs message retention on the topic', (v: string) => parseSince(v))
      .option('--subscription <name>', 'use this subscription: reused as it is (and kept) when it exists, otherwise created with the filter')
      .option('--keep', 'keep the subscription this command created when it stops')
      .option(
        '--topic-name <name>',
        "the topic's name on Google Cloud (default: $PREDICTION_RESULTS_TOPIC / $MODEL_EVENTS_TOPIC, else dropship-<topic>); projects/P/topics/T reads another project's topic",
      ),
  ).action(async (flags: SubscribeFlags) => {
    if (flags.json && flags.format) throw new UsageError('--json and --format are alternatives: pick one');
    if (flags.fromNow && flags.since) throw new UsageError('--from-now and --since are alternatives: pick one');
    const match = attributeMatch(flags.topic, flags);
    const target = await resolveTarget(flags);
    try {
      await subscribe(target, flags, match);
    } finally {
      await target.close();
    }
  });
  return runCommand(program, argv);
}

async function subscribe(target: Target, flags: SubscribeFlags, match: AttributeMatch): Promise<void> {
  const pubsub = target.pubsub();
  const topicName = topicFor(target, flags.topic, flags.topicName);
  const filter = pubsubFilter(match);
  const { subscription, created } = await openSubscription(pubsub, topicName, flags.subscription, filter);
  const say = (s: string) => process.stderr.write(`${s}\n`);
  try {
    if (flags.since) await subscription.seek(flags.since);
    if (target.kind === 'local' && filter) say('the Pub/Sub emulator ignores subscription filters: the filter is applied here, client-side');
    const jsonl = flags.json || flags.format === 'jsonl';
    await stream(
      subscription,
      match,
      (body) => process.stdout.write(jsonl ? `${JSON.stringify(body)}\n` : textLine(body)),
      // last, once SIGINT and SIGTERM are handled: tests (and scripts) take this line as "listening"
      () => say(`subscribed to ${topicName} as ${subscription.name.split('/').pop()}${created ? '' : ' (existing)'}${filter ? `, filter: ${filter}` : ''}`),
    );
  } finally {
    await subscription.close().catch(() => undefined);
    if (created && !flags.keep) {
      await subscription.delete().then(
        () => say(`deleted subscription ${subscription.name.split('/').pop()}`),
        (err: unknown) => say(`could not delete subscription ${subscription.name}: ${errorMessage(err)}`),
      );
    } else {
      say(`kept subscription ${subscription.name.split('/').pop()}`);
    }
  }
}

/** The topic's full name: the local stack's own, or the deployment's on Google Cloud. */
function topicFor(target: Target, topic: SubscribeTopic, override: string | undefined): string {
  const logical = SUBSCRIBE_TOPICS[topic];
  let name: string;
  if (override) name = override;
  else if (target.kind === 'local') name = target.topic(logical);
  else name = (topic === 'results' ? process.env.PREDICTION_RESULTS_TOPIC : process.env.MODEL_EVENTS_TOPIC) ?? `dropship-${logical}`;
  return name.startsWith('projects/') ? name : `projects/${target.project}/topics/${name}`;
}

async function openSubscription(pubsub: PubSub, topicName: string, name: string | undefined, filter: string): Promise<{ subscription: Subscription; created: boolean }> {
  const options = { flowControl: { maxMessages: 1000, allowExcessMessages: false } };
  if (name) {
    const existing = pubsub.subscription(name, options);
    const [exists] = await existing.exists();
    if (exists) return { subscription: existing, created: false };
  }
  const subName = name ?? `dropship-subscribe-${randomBytes(6).toString('hex')}`;
  const [subscription] = await pubsub.topic(topicName).createSubscription(subName, {
    ...(filter ? { filter } : {}),
    ackDeadlineSeconds: 60,
    expirationPolicy: { ttl: { seconds: ABANDONED_TTL_SECONDS } },
  });
  subscription.setOptions(options);
  return { subscription, created: true };
}

/**
 * Hands each matching message on once, acknowledging every delivery, until SIGINT or SIGTERM.
 * The signal handlers come first: starting the subscriber's stream loads the gRPC client
 * synchronously (a few hundred ms), and a signal in that window would kill the process with
 * Node's default action, before `finally` deletes (or says it kept) the subscription.
 */
function stream(subscription: Subscription, match: AttributeMatch, emit: (body: unknown) => void, listening: () => void): Promise<void> {
  const guard = new RedeliveryGuard();
  return new Promise<void>((resolve, reject) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      subscription.removeListener('message', onMessage);
      resolve();
    };
    const onMessage = (m: Message) => {
      const attributes = { ...m.attributes };
      let body: unknown;
      try {
        body = JSON.parse(m.data.toString('utf8'));
      } catch {
        process.stderr.write(`skipped message ${m.id}: its body is not JSON\n`);
        m.ack();
        return;
      }
      if (matches(match, attributes) && guard.firstTime(messageKey(m.id, attributes, body))) emit(body);
      m.ack();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    subscription.on('message', onMessage);
    subscription.once('error', (err: unknown) => {
      stop();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
    listening();
  });
}

function textLine(body: unknown): string {
  const b = body as Record<string, unknown>;
  if (b.type === 'result') {
    const outcome = b.status === 'OK' ? `${String(b.label)} ${typeof b.confidence === 'number' ? b.confidence.toFixed(3) : ''}` : `${String(b.reason)}: ${String(b.error)}`;
    return `${String(b.status).padEnd(5)} ${String(b.job)} ${String(b.imageUri)} ${outcome}\n`;
  }
  if (b.type === 'job-completed') {
    const counts = (b.counts ?? {}) as { ok?: number; error?: number };
    return `DONE  ${String(b.job)} ${String(b.total)} images: ${counts.ok ?? 0} OK, ${counts.error ?? 0} ERROR\n`;
  }
  if (typeof b.model === 'string' && typeof b.state === 'string') {
    return `${String(b.at)} ${b.model}/${String(b.version)} ${String(b.from ?? '-')} -> ${b.state}${b.reason ? ` (${String(b.reason)})` : ''}\n`;
  }
  return `${JSON.stringify(body)}\n`;
}

/** RFC 3339, or a duration ago: 30s, 10m, 2h, 1d. */
export function parseSince(value: string, now = Date.now()): Date {
  const ago = /^(\d+)(s|m|h|d)$/.exec(value);
  if (ago) return new Date(now - Number(ago[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[ago[2] as 's' | 'm' | 'h' | 'd']);
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t)) throw new UsageError(`--since must be an RFC 3339 time or a duration such as 10m, got '${value}'`);
  return new Date(t);
}
