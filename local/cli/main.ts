/**
 * `dropship`: one entry point for people and tests. Each command lives in its own module and
 * is loaded only when asked for, so `dropship vertex-emulator` does not load the CLI's clients.
 */
type CommandModule = { main(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { describe: string; load: () => Promise<CommandModule> }> = {
  up: { describe: 'run the whole stack locally (emulators + functions) until Ctrl-C', load: () => import('#local/cli/up') },
  deploy: { describe: 'upload a SavedModel folder and follow its deployment', load: () => import('#local/cli/deploy') },
  label: { describe: 'upload images to label and follow the job', load: () => import('#local/cli/label') },
  cost: { describe: 'a labeling job online vs as a batch prediction job, and what "auto" picks', load: () => import('#local/cli/cost') },
  status: { describe: 'deployment state of models and versions', load: () => import('#local/cli/status') },
  results: { describe: "a job's results, as a table, JSON, CSV or JSONL; --follow streams them", load: () => import('#local/cli/results') },
  subscribe: { describe: 'stream result (or model-events) messages as a subscriber sees them, filtered', load: () => import('#local/cli/subscribe') },
  console: { describe: 'a web console of models, jobs and labeled images on 127.0.0.1', load: () => import('#local/console/command') },
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
    const list = Object.entries(COMMANDS)
      .map(([n, c]) => `  ${n.padEnd(18)} ${c.describe}`)
      .join('\n');
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
// the event loop alive after their work is over. But only once stdout and stderr have handed
// everything to the OS: to a pipe, Node writes asynchronously, and process.exit() drops what is
// still queued (everything past the pipe's 64 KiB when the reader is slower than the writer).
// `dropship results J | head` closes the pipe early: that is the reader's choice, not a failure,
// so EPIPE ends the command quietly, with no stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(stream === process.stdout ? 0 : (process.exitCode ?? 0));
    throw err;
  });
}

/** resolves once everything written to the stream so far is out of the process (or cannot be) */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

async function exitWhenFlushed(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

run(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    process.stderr.write(`dropship: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitWhenFlushed(1);
  },
);
