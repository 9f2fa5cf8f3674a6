/** what a signal stops, in the order registered; each stops once */
const stoppers = new Set<() => Promise<void>>();
let installed = false;

/**
 * Ctrl-C or a kill stops what the bench started first (a stack's gcloud emulators, a `dropship up`
 * child: process groups of their own), all of it, and exits 130 once every stop has settled.
 * Returns the unregistering function, for a part stopped in the normal way.
 */
export function stopOnSignal(stop: () => Promise<void>): () => void {
  stoppers.add(stop);
  if (!installed) {
    installed = true;
    const handler = (signal: NodeJS.Signals) => {
      process.stderr.write(`\n${signal}: stopping what the bench started...\n`);
      // Work cut short by the stop (a Firestore call on a terminated client) must not end the
      // process before the emulators are stopped.
      process.on('unhandledRejection', () => undefined);
      void Promise.allSettled([...stoppers].map((s) => s())).finally(() => process.exit(130));
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  }
  return () => void stoppers.delete(stop);
}
