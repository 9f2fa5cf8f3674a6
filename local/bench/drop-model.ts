import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BenchStack } from './harness/bench-stack';

const REQUIRED_LAST = 'saved_model.pb';

export interface DropTiming {
  model: string;
  version: string;
  /** when the upload of the last artifact returned (epoch ms) */
  lastLandedAt: number;
  /** the version's DEPLOYING transition: recorded as DeployModel returns its operation */
  deployIssuedAt: number;
  seconds: number;
}

interface VersionDoc {
  state?: string;
  error?: string;
  history?: Array<{ to: string; at: string }>;
}

/**
 * Copies a SavedModel folder into the models bucket the way a user does (one object per
 * file, saved_model.pb last so the folder completes on that file) and times the model-drop
 * function: last artifact landed -> DeployModel issued. Then waits for DEPLOYED.
 */
export async function dropModel(stack: BenchStack, dir: string, model: string, version: string, timeoutMs = 120_000): Promise<DropTiming> {
  const files = listFiles(dir).sort((a, b) => Number(a === REQUIRED_LAST) - Number(b === REQUIRED_LAST));
  let lastLandedAt = 0;
  for (const f of files) {
    await stack.upload(stack.buckets.models, `${model}/${version}/${f}`, readFileSync(join(dir, f)));
    lastLandedAt = Date.now();
  }
  const ref = stack.db.doc(`models/${model}/versions/${version}`);
  let doc: VersionDoc | undefined;
  const deployed = await stack.waitFor(async () => {
    doc = (await ref.get()).data() as VersionDoc | undefined;
    return doc?.state === 'DEPLOYED' || doc?.state === 'FAILED';
  }, timeoutMs);
  if (!deployed || doc?.state !== 'DEPLOYED') throw new Error(`${model}/${version} did not deploy: ${doc?.state ?? 'no state'} ${doc?.error ?? ''}`);
  const issued = doc.history?.find((h) => h.to === 'DEPLOYING');
  if (!issued) throw new Error(`${model}/${version} has no DEPLOYING transition in its history`);
  const deployIssuedAt = Date.parse(issued.at);
  return { model, version, lastLandedAt, deployIssuedAt, seconds: (deployIssuedAt - lastLandedAt) / 1000 };
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p, root) : [relative(root, p)];
  });
}
