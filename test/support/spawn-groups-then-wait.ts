/**
 * A parent for the watchdog test: starts each command given as a JSON argument with
 * spawnGroup, prints the group ids as one JSON line, then waits to be killed.
 *   node --conditions=source --import tsx test/support/spawn-groups-then-wait.ts LOGFILE '["sh","-c","sleep 60 & wait"]' ...
 */
import { spawnGroup } from '#local/emulators/process-group';

const [logFile, ...commands] = process.argv.slice(2);
const pids = commands.map((c) => {
  const [command, ...args] = JSON.parse(c) as string[];
  return spawnGroup(command!, args, { logFile: logFile!, track: { tag: process.env.TEST_TAG ?? 'test-tag-0000', onStart: () => undefined } }).pid;
});
process.stdout.write(JSON.stringify(pids) + '\n');
setInterval(() => undefined, 60_000);
