/**
 * `dropship`: one entry point for people and tests. Each command lives in its own module and
 * is loaded only when asked for, so `dropship vertex-emulator` does not load the CLI's clients.
 */
type CommandModule = { main(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { describe: string; load: () => Promise<CommandModule> }> = {
  up: { describe: 'run the whole stack locally (emulators + functions) until Ctrl-C', load: () => import('#local/cli/up') },
  deploy: { describe: 'upload a SavedModel folder and follow its deployment', load: () => import('#local/cli/deploy') },
  label: { describe: 'upload images to label and follow the job', load: () => import('#local/cli/label') },
  status: { describe: 'deployment state of models and versions', load: () => import('#local/cli/status') },
  results: { describe: "a job's results, as a table, JSON, CSV or JSONL; --follow streams them", load: () => import('#local/cli/results') },
  promote: { describe: 'give a canary version all the traffic', load: () => import('#local/cli/promote') },
  rollback: { describe: 'put traffic back on an earlier version', load: () => import('#local/cli/rollback') },
  loadtest: { describe: 'a Locust-style load test of a Vertex AI endpoint', load: () => import('#local/loadtest/command') },
  'vertex-emulator': { describe: 'run the Vertex AI emulator on its own', load: () => import('#local/vertex-emulator/main') },
  'storage-emulator': { describe: 'run the Cloud Storage emulator on its own', load: () => import('#local/storage-emulator/main') },
};

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const list = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(18)} ${c.describe}`).join('\n');
    const help = name === undefined || name === '--help' || name === '-h' || name === 'help';
    (help ? process.stdout : process.stderr).write(
      `${name && !help ? `unknown command: ${name}\n` : ''}usage: dropship <command> [options]   (dropship <command> --help for its options)\n\ncommands:\n${list}\n\n` +
        'Commands act on the local stack (see `dropship up`) unless a Google Cloud project is given\n' +
        '(--project, $GOOGLE_CLOUD_PROJECT or $CLOUDSDK_CORE_PROJECT). Exit codes: 0 done, 1 failed, 2 bad usage.\n',
    );
    return help ? 0 : 2;
  }
  const mod = await command.load();
  return mod.main(rest);
}

// Exit explicitly once a command is done: client libraries (gRPC channels, listeners) can keep
// the event loop alive after their work is over. stdout and stderr are synchronous for files
// and pipes on Linux, so nothing written is lost.
// `dropship results J | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`dropship: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
