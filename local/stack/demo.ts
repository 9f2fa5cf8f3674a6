import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploy } from '#local/cli/deploy';
import { label, planUploads } from '#local/cli/label';
import { readResults } from '#local/cli/results';
import type { Target } from '#local/cli/target';
import type { VersionRecord } from '#shared/deployment/core/records';

export const DEMO_MODEL_DIR = join(__dirname, '..', 'demo-model', 'mnist-vit');
export const DEMO_MODEL = 'digits';

/**
 * `dropship up --demo`: deploys the demo model (once: a restarted stack keeps it) and labels a
 * handful of held-out MNIST digits, printing each label beside the true digit.
 */
export async function runDemo(target: Target, dataDir: string, say: (line: string) => void, count = 10): Promise<void> {
  const versions = target.firestore().collection('models').doc(DEMO_MODEL).collection('versions');
  const deployed = (await versions.get()).docs.some((d) => (d.data() as VersionRecord).state === 'DEPLOYED');
  if (deployed) {
    say(`demo: ${DEMO_MODEL} is already deployed`);
  } else {
    say(`demo: deploying ${DEMO_MODEL_DIR} as ${DEMO_MODEL}/v1`);
    await deploy(target, DEMO_MODEL_DIR, { model: DEMO_MODEL, version: 'v1', wait: true, timeout: 600 });
  }
  // The digits come from the test support module (the `mnist` package, a dev dependency).
  const { heldOutDigits, encodeDigit } = await import('#local/model-build/mnist-digits');
  const digits = heldOutDigits()
    .filter((_, i) => i % 150 === 0)
    .slice(0, count);
  const dir = join(dataDir, 'demo', 'digits');
  mkdirSync(dir, { recursive: true });
  const truth = new Map<string, number>();
  for (const d of digits) {
    const file = `digit-${d.index}-is-${d.label}.png`;
    writeFileSync(join(dir, file), await encodeDigit(d.pixels, 'png'));
    truth.set(file, d.label);
  }
  const job = `demo-${new Date()
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)}`;
  say(`demo: labeling ${digits.length} held-out digits as job ${job}`);
  await label(target, planUploads([dir], { job, model: DEMO_MODEL }), { job, model: DEMO_MODEL, wait: true, timeout: 600 });
  let right = 0;
  for (const r of await readResults(target.firestore(), job)) {
    const file = String(r.imageUri).split('/').pop() ?? '';
    const expected = truth.get(file);
    if (String(r.label) === String(expected)) right += 1;
    say(`  ${file}: ${r.status === 'OK' ? `${String(r.label)} (${Number(r.confidence).toFixed(3)})` : `ERROR ${String(r.error)}`}`);
  }
  say(`demo: ${right} of ${digits.length} labeled right; read them again with \`npx dropship results ${job}\``);
}
