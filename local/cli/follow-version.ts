import type { Firestore } from '@google-cloud/firestore';
import { SingleBar, Presets } from 'cli-progress';
import type { VersionRecord } from '#shared/deployment/core/records';
import type { VersionState } from '#shared/deployment/core/state-machine';
import { CommandFailed } from './cli-errors';

const STEPS: VersionState[] = ['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED'];
const POLL_MS = 500;

export type Verdict = 'done' | 'failed' | undefined;

/** Deployed, or deployed once and superseded since (a later version replaced it while we looked away). */
export function deployVerdict(rec: VersionRecord): Verdict {
  if (rec.state === 'FAILED') return 'failed';
  if (rec.state === 'DEPLOYED') return 'done';
  if ((rec.state === 'SUPERSEDED' || rec.state === 'UNDEPLOYED') && rec.history.some((h) => h.to === 'DEPLOYED')) return 'done';
  return undefined;
}

/**
 * Follows models/{model}/versions/{version} until `verdict` says it is over, showing the state
 * as a progress bar on a terminal and one line per transition otherwise. Resolves with the
 * final record; a FAILED version rejects with its reason.
 */
export async function followVersion(
  firestore: Firestore,
  model: string,
  version: string,
  opts: { timeoutMs: number; verdict?: (rec: VersionRecord) => Verdict; quiet?: boolean },
): Promise<VersionRecord> {
  const verdict = opts.verdict ?? deployVerdict;
  const ref = firestore.collection('models').doc(model).collection('versions').doc(version);
  const started = Date.now();
  const bar = process.stderr.isTTY && !opts.quiet ? new SingleBar({ format: `${model}/${version} [{bar}] {state} {elapsed}s`, hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(STEPS.length, 0, { state: 'waiting for the upload to be noticed', elapsed: '0' });
  let last: string | undefined;
  try {
    for (;;) {
      const snap = await ref.get();
      const rec = snap.exists ? (snap.data() as VersionRecord) : undefined;
      const elapsed = ((Date.now() - started) / 1000).toFixed(0);
      if (rec) {
        const step = STEPS.indexOf(rec.state);
        bar?.update(step >= 0 ? step + 1 : STEPS.length, { state: rec.state, elapsed });
        if (!bar && !opts.quiet && rec.state !== last) process.stderr.write(`${model}/${version}: ${rec.state} (${elapsed}s)\n`);
        last = rec.state;
        const v = verdict(rec);
        if (v === 'failed') throw new CommandFailed(`${model}/${version} FAILED: ${rec.error ?? 'no reason recorded'}`);
        if (v === 'done') return rec;
      } else {
        bar?.update(0, { state: 'waiting for the upload to be noticed', elapsed });
      }
      if (Date.now() - started > opts.timeoutMs) {
        throw new CommandFailed(`${model}/${version} is still ${rec?.state ?? 'unknown to the deployment'} after ${Math.round(opts.timeoutMs / 1000)} s; follow it with \`dropship status ${model}\``);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}
