import { Command, CommanderError } from 'commander';
import { errorMessage } from '#shared/errors';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './cli-errors';

/**
 * Parses argv with a commander program and runs its action, mapping every outcome to an exit
 * code: commander's own parse errors and UsageError are 2, everything else thrown is 1.
 * Commander is told never to call process.exit itself, so tests and the dispatcher see the code.
 */
export async function runCommand(program: Command, argv: string[]): Promise<number> {
  let code = EXIT_OK;
  program
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    code = exitCodeFor(err);
  }
  return code;
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end in a CommanderError too, with exit code 0.
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`dropship: ${err.message}\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(`dropship: ${errorMessage(err)}\n`);
  return EXIT_FAILED;
}

/** Parses a positive integer flag value for commander, or fails as bad usage. */
export function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got '${value}'`);
    return n;
  };
}
