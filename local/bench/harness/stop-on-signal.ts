/** Ctrl-C or a kill stops the stack first: its gcloud emulators run in process groups of their own. */
export function stopOnSignal(stop: () => Promise<void>): void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the stack...\n`);
    // Work cut short by the stop (a Firestore call on a terminated client) must not end the
    // process before the emulators are stopped.
    process.on('unhandledRejection', () => undefined);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
