/**
 * The watchdog every emulator process group is led by (spawnGroup runs it as
 * `node -e WATCHDOG_SCRIPT -- command args...`, in a new session: its pid is the session's id
 * and its group's).
 *
 * It starts the command in its session and reads its own stdin, a pipe whose other end only
 * the parent holds. The kernel closes that end however the parent ends, SIGKILL included, and
 * the watchdog then sees EOF: it sends SIGTERM to every other process of its session, waits up
 * to GRACE_MS for them to go, then SIGKILLs what is left, and exits. Node has no
 * prctl(PR_SET_PDEATHSIG), and that would reach only the direct child anyway, not the java a
 * gcloud wrapper starts.
 *
 * The session, not the process group: a gcloud emulator wrapper that is not a session leader
 * moves itself into a process group of its own (googlecloudsdk/command_lib/emulators/util.py,
 * `os.setpgid(0, 0)` unless `os.getsid(0) == os.getpid()`), so the watchdog's group holds only
 * the watchdog; nothing here calls setsid, so the session holds everything.
 *
 * A SIGTERM (the parent's stop()) or the command ending on its own ends the session the same
 * way; the watchdog exits with the command's code (143 for SIGTERM, 137 after EOF), and only
 * once it has reaped the command: had it exited first, the command's zombie would have been
 * handed to init and kept the group alive (`kill(-pgid, 0)` succeeding) until init reaped it.
 *
 * Plain CommonJS in a string, so that it runs from source and from dist alike, on any Node,
 * without a loader; Linux only (it reads /proc to find its group's members).
 */
export const WATCHDOG_TAG_ENV = 'DROPSHIP_PROCESS_TAG';

/** a recognisable word in the watchdog's command line (for `ps` and stale-stack checks) */
export const WATCHDOG_MARK = 'dropship-watchdog';

export const WATCHDOG_SCRIPT = `/* ${WATCHDOG_MARK} */
'use strict';
const { spawn } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const GRACE_MS = 5000;
const [command, ...args] = process.argv.slice(1);
const env = { ...process.env };
if (env.DROPSHIP_WATCHDOG_NODE_OPTIONS) env.NODE_OPTIONS = env.DROPSHIP_WATCHDOG_NODE_OPTIONS;
delete env.DROPSHIP_WATCHDOG_NODE_OPTIONS;
const me = process.pid;
function others() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d) || Number(d) === me) continue;
    try {
      const stat = readFileSync('/proc/' + d + '/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[3]) === me && f[0] !== 'Z') out.push(Number(d));
    } catch {}
  }
  return out;
}
function kill(sig) { for (const pid of others()) { try { process.kill(pid, sig); } catch {} } }
let ending = false;
let commandReaped = false;
function endSession(code) {
  if (ending) return;
  ending = true;
  kill('SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  const poll = () => {
    // exit only once the command has been reaped (its 'exit' event): a child left a zombie
    // when the watchdog exits is re-parented to init and holds the group until init reaps it.
    if (commandReaped && others().length === 0) process.exit(code);
    if (Date.now() > deadline) kill('SIGKILL');
    setTimeout(poll, 50);
  };
  poll();
}
process.on('SIGTERM', () => endSession(143));
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
child.on('error', (err) => { process.stderr.write('${WATCHDOG_MARK}: cannot start ' + command + ': ' + err.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => { commandReaped = true; endSession(code === null ? 128 + (require('node:os').constants.signals[signal] || 0) : code); });
process.stdin.on('end', () => endSession(137));
process.stdin.on('error', () => endSession(137));
process.stdin.resume();
`;
