import type { PubSub } from '@google-cloud/pubsub';
import { TOPOLOGY, type ScheduleSpec } from '#shared/topology';

/**
 * Cloud Scheduler, locally: publishes a tick to each schedule's topic every `everyMs` instead
 * of on its cron (a minute is too slow to watch a deployment finish on one machine).
 */
export function startScheduleTimers(pubsub: PubSub, everyMs: number, schedules: ScheduleSpec[] = TOPOLOGY.schedules): { stop(): void } {
  const timers = schedules.map((s) => {
    const topic = pubsub.topic(s.topic);
    const tick = () => {
      topic.publishMessage({ json: { schedule: s.name, time: new Date().toISOString() } }).catch(() => {
        // a missed tick is harmless: the next one comes in a few seconds
      });
    };
    const t = setInterval(tick, everyMs);
    t.unref();
    return t;
  });
  return {
    stop: () => timers.forEach((t) => clearInterval(t)),
  };
}
