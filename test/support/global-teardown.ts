import type { RunningEmulator } from '../../local/emulators/gcloud-emulators';

export default async function globalTeardown(): Promise<void> {
  const started = ((globalThis as Record<string, unknown>).__DROPSHIP_EMULATORS__ ?? []) as RunningEmulator[];
  await Promise.all(started.map((e) => e.process.stop()));
}
