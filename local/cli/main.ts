/**
 * `dropship`: one entry point for people and tests. Each command lives in its own module and
 * is loaded only when asked for, so `dropship vertex-emulator` does not load the CLI's clients.
 */
const COMMANDS: Record<string, { describe: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> }> = {
  'vertex-emulator': { describe: 'run the Vertex AI emulator on its own', load: () => import('#local/vertex-emulator/main') },
  'storage-emulator': { describe: 'run the Cloud Storage emulator on its own', load: () => import('#local/storage-emulator/main') },
};

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const list = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(18)} ${c.describe}`).join('\n');
    process.stderr.write(`${name ? `unknown command: ${name}\n` : ''}usage: dropship <command> [options]\n\ncommands:\n${list}\n`);
    return name === undefined || name === '--help' || name === 'help' ? 0 : 2;
  }
  const mod = await command.load();
  return mod.main(rest);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dropship: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
