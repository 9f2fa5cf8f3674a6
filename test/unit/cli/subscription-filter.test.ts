import { UsageError } from '#local/cli/cli-errors';
import { messageKey, RedeliveryGuard } from '#local/cli/redelivery-guard';
import { parseSince } from '#local/cli/subscribe';
import { attributeMatch, matches, pubsubFilter } from '#local/cli/subscription-filter';

describe('dropship subscribe: which messages', () => {
  it('turns --job/--status/--label/--model into a Pub/Sub attribute filter', () => {
    const m = attributeMatch('results', { job: 'cats', status: 'error', label: 'tabby', model: 'vit' });
    expect(pubsubFilter(m)).toBe('attributes.job = "cats" AND attributes.status = "ERROR" AND attributes.label = "tabby" AND attributes.model = "vit"');
    expect(pubsubFilter(attributeMatch('results', {}))).toBe('');
  });

  it('applies the same selection client-side', () => {
    const m = attributeMatch('results', { job: 'cats', status: 'ERROR' });
    expect(matches(m, { type: 'result', job: 'cats', status: 'ERROR', resultId: 'r' })).toBe(true);
    expect(matches(m, { type: 'result', job: 'cats', status: 'OK', resultId: 'r' })).toBe(false);
    expect(matches(m, { type: 'job-completed', job: 'cats' })).toBe(false);
    expect(matches(m, { type: 'result', job: 'dogs', status: 'ERROR', resultId: 'r' })).toBe(false);
  });

  it('on model-events, --status is the state and --job/--label are refused', () => {
    expect(pubsubFilter(attributeMatch('model-events', { model: 'mnist', status: 'failed' }))).toBe('attributes.model = "mnist" AND attributes.state = "FAILED"');
    expect(() => attributeMatch('model-events', { job: 'x' })).toThrow(UsageError);
    expect(() => attributeMatch('model-events', { status: 'ERROR' })).toThrow(/--status must be one of PENDING/);
  });

  it('refuses values it could not quote, and unknown statuses', () => {
    expect(() => attributeMatch('results', { label: 'a"b' })).toThrow(/quote/);
    expect(() => attributeMatch('results', { status: 'MAYBE' })).toThrow(/OK, ERROR/);
  });

  it('keys redeliveries by resultId, a job-completed by its job, a model event by version, state and time', () => {
    const g = new RedeliveryGuard(2);
    expect(g.firstTime(messageKey('m1', { resultId: 'r1' }, {}))).toBe(true);
    expect(g.firstTime(messageKey('m2', { resultId: 'r1' }, {}))).toBe(false);
    expect(messageKey('m3', { type: 'job-completed', job: 'j' }, {})).toBe('job-completed j');
    expect(messageKey('m4', { model: 'm' }, { model: 'm', version: 'v1', state: 'DEPLOYED', at: 't' })).toBe('model-event m/v1 DEPLOYED t');
    expect(messageKey('m5', {}, 'x')).toBe('message m5');
    // bounded: the oldest key goes first
    g.firstTime('a');
    g.firstTime('b');
    expect(g.firstTime(messageKey('m1', { resultId: 'r1' }, {}))).toBe(true);
  });

  it('--since takes RFC 3339 or a duration ago', () => {
    expect(parseSince('10m', 1_000_000).getTime()).toBe(400_000);
    expect(parseSince('2026-12-01T10:00:00Z').toISOString()).toBe('2026-12-01T10:00:00.000Z');
    expect(() => parseSince('yesterday')).toThrow(UsageError);
  });
});
