import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFirestoreEmulator, startPubsubEmulator, type RunningEmulator } from '../../local/emulators/gcloud-emulators';

/**
 * Starts the Pub/Sub and Firestore emulators once for the whole run (unless the caller
 * already points PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST at running ones) and hands
 * their addresses to the test workers through the environment. Each test file uses its own
 * project id, so files never see each other's data.
 */
export default async function globalSetup(): Promise<void> {
  const logDir = join(process.cwd(), '.dropship', 'test-logs');
  mkdirSync(logDir, { recursive: true });
  const started: RunningEmulator[] = [];
  const jobs: Promise<void>[] = [];
  if (!process.env.PUBSUB_EMULATOR_HOST) {
    jobs.push(
      startPubsubEmulator({ project: 'demo-dropship', logDir }).then((e) => {
        started.push(e);
        process.env.PUBSUB_EMULATOR_HOST = e.hostPort;
      }),
    );
  }
  if (!process.env.FIRESTORE_EMULATOR_HOST) {
    jobs.push(
      startFirestoreEmulator({ logDir }).then((e) => {
        started.push(e);
        process.env.FIRESTORE_EMULATOR_HOST = e.hostPort;
      }),
    );
  }
  const results = await Promise.allSettled(jobs);
  (globalThis as Record<string, unknown>).__DROPSHIP_EMULATORS__ = started;
  writeFileSync(join(logDir, 'emulator-pids'), started.map((e) => String(e.process.pid)).join('\n'));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((e) => e.process.stop()));
    throw failed.reason;
  }
}
