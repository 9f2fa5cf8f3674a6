/** Ctrl-C or a kill stops the stack first: its gcloud emulators run in process groups of their own. */
export function stopOnSignal(stop: () => Promise<void>): void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the stack...\n`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
