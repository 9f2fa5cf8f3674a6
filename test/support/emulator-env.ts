import { randomBytes } from 'node:crypto';

/** A project id of its own for one test file, so files sharing the emulators never collide. */
export function uniqueProjectId(prefix = 'demo-test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function requireEmulatorEnv(): { pubsub: string; firestore: string } {
  const pubsub = process.env.PUBSUB_EMULATOR_HOST;
  const firestore = process.env.FIRESTORE_EMULATOR_HOST;
  if (!pubsub || !firestore) throw new Error('the emulators are not running: run the tests through `npm test`');
  return { pubsub, firestore };
}
