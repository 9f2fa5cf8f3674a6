import { Command } from 'commander';
import type { Firestore } from '@google-cloud/firestore';
import { daysUntilImageEnds, prebuiltImageAvailableUntil } from '#shared/deployment/core/container-image';
import { MODEL_NAME } from '#shared/deployment/core/object-path';
import type { ModelRecord, VersionRecord } from '#shared/deployment/core/records';
import { CommandFailed, UsageError } from './cli-errors';
import { asReader, type DocumentReader } from './document-reader';
import { rolloutLines } from './rollout-figures';
import { runCommand } from './run-command';
import { addTargetOptions, resolveTarget, type TargetFlags } from './target';
import { documentReader } from './target-documents';

interface StatusFlags extends TargetFlags {
  json?: boolean;
  watch?: boolean | string;
}

export interface ModelStatus {
  model: string;
  endpoint: string | null;
  vertexModel: string | null;
  traffic: Record<string, number>;
  versions: Array<Omit<VersionRecord, 'lease'>>;
}

export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship status')
      .description('the deployment state of every model, or of one, with its versions and traffic')
      .argument('[model]', 'one model')
      .option('--json', 'print JSON on stdout')
      .option('--watch [seconds]', 'print again every few seconds (default 2) while a version is in progress or in CANARY_ANALYSIS; exits once none is'),
  ).action(async (model: string | undefined, flags: StatusFlags) => {
    if (model !== undefined && !MODEL_NAME.test(model)) throw new UsageError(`'${model}' is not a model name`);
    const target = await resolveTarget(flags);
    try {
      if (flags.watch !== undefined && flags.watch !== false) {
        const seconds = flags.watch === true ? 2 : Number(flags.watch);
        if (!(seconds > 0)) throw new UsageError(`--watch takes seconds > 0, got '${String(flags.watch)}'`);
        await watchStatus(target.firestore(), model, seconds, !!flags.json);
        return;
      }
      // one picture: read over REST, with no Firestore client to load (--watch keeps the client's channel)
      const models = await readStatus(documentReader(target), model);
      if (model && models.length === 0) throw new CommandFailed(`no model ${model}: nothing was deployed under that name`);
      process.stdout.write(flags.json ? JSON.stringify(model ? models[0] : models, null, 2) + '\n' : renderStatus(models));
      // on stderr, so --json stays the records alone
      for (const w of imageWarnings(models, new Date())) process.stderr.write(`warning: ${w}\n`);
    } finally {
      await target.close();
    }
  });
  return runCommand(program, argv);
}

export async function readStatus(source: Firestore | DocumentReader, only?: string): Promise<ModelStatus[]> {
  const reader = asReader(source);
  // A model's versions may exist before models/{model} does (it is written at registration).
  const names = only ? [only] : (await reader.listIds('models')).sort();
  const out: ModelStatus[] = [];
  for (const name of names) {
    const [modelData, versionDocs] = await Promise.all([reader.get(`models/${name}`), reader.list(`models/${name}/versions`)]);
    if (!modelData && versionDocs.length === 0) continue;
    const rec = (modelData ?? {}) as Partial<ModelRecord>;
    out.push({
      model: name,
      endpoint: rec.endpoint ?? null,
      vertexModel: rec.vertexModel ?? null,
      traffic: rec.traffic ?? {},
      versions: versionDocs
        .map((d) => {
          const { lease: _lease, ...v } = d.data as VersionRecord;
          return v;
        })
        .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt))),
    });
  }
  return out;
}

/** Versions `--watch` waits on: work under way, or a canary being judged. */
const FOLLOWED = new Set(['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'CANARY_ANALYSIS']);

async function watchStatus(firestore: Firestore, model: string | undefined, seconds: number, json: boolean): Promise<void> {
  const tty = process.stdout.isTTY && !json;
  for (;;) {
    const models = await readStatus(firestore, model);
    const text = json ? JSON.stringify(model ? models[0] : models) + '\n' : renderStatus(models);
    // a terminal shows the latest picture in place; a pipe gets each one after the other
    process.stdout.write(tty ? `\x1b[H\x1b[2J${new Date().toISOString()}\n${text}` : text);
    if (!models.some((m) => m.versions.some((v) => FOLLOWED.has(v.state)))) return;
    await new Promise((r) => setTimeout(r, seconds * 1000));
  }
}

export function renderStatus(models: ModelStatus[]): string {
  if (models.length === 0) return 'no models yet: deploy one with `dropship deploy DIR --model M --version V --wait`\n';
  const lines: string[] = [];
  for (const m of models) {
    lines.push(`${m.model}  endpoint: ${m.endpoint ?? '(none yet)'}`);
    for (const v of m.versions) {
      const traffic = m.traffic[v.version] ?? v.trafficPercent;
      const extra = v.state === 'FAILED' ? `  ${v.error ?? ''}` : v.deployedModelId ? `  deployed model ${v.deployedModelId}` : '';
      lines.push(`  ${v.version.padEnd(12)} ${v.state.padEnd(11)} ${traffic !== undefined ? `${traffic}%`.padStart(4) : '   -'}  ${v.traffic}  ${v.updatedAt}${extra}`);
      for (const l of rolloutLines(v)) lines.push(`      ${l}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** Warn this many days ahead: a redeploy takes a while to plan, and Vertex AI deploys take up to 30 min each. */
export const IMAGE_WARNING_DAYS = 60;

/**
 * One line per deployed (or deploying) version whose serving image Vertex AI stops offering
 * within IMAGE_WARNING_DAYS of `now`, or already has: a rollback to it, a redeploy or a new
 * replica needs the image, so it should move to TensorFlow Serving before then.
 */
export function imageWarnings(models: ModelStatus[], now: Date, days = IMAGE_WARNING_DAYS): string[] {
  const out: string[] = [];
  for (const m of models) {
    for (const v of m.versions) {
      if (v.state !== 'DEPLOYED' && v.state !== 'DEPLOYING') continue;
      const left = v.containerImageUri ? daysUntilImageEnds(v.containerImageUri, now) : undefined;
      if (left === undefined || left > days) continue;
      // read from the image itself, so records written before imageAvailableUntil existed are warned about too
      const until = prebuiltImageAvailableUntil(v.containerImageUri!);
      const when = left > 0 ? `stops offering on ${until} (${left} days from now)` : `stopped offering on ${until}`;
      out.push(
        `${m.model}/${v.version} serves on ${v.containerImageUri}, which Vertex AI ${when}: deploy it again as a new version with "serving": "tf-serving" in deploy.json (the default after that date)`,
      );
    }
  }
  return out;
}
