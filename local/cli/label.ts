import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { CommandFailed, UsageError } from './cli-errors';
import { MODEL_NAME } from '#shared/deployment/core/object-path';
import { followJob } from './follow-job';
import { countResults, type JobCounts } from './job-progress';
import { listFiles, type LocalFile } from './list-files';
import { positiveInt, runCommand } from './run-command';
import { addTargetOptions, resolveTarget, type Target, type TargetFlags } from './target';
import { uploadFiles } from './upload-files';

/** Job names become the first folder of object names and a Firestore document id. */
export const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface LabelFlags extends TargetFlags {
  job: string;
  model?: string;
  mode: 'online' | 'batch' | 'auto';
  deadline?: string;
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship label')
      .description('upload images to the images bucket under <job>/ and follow the job')
      .argument('<paths...>', 'image files and folders (folders are uploaded with their sub-folders)')
      .requiredOption('--job <name>', 'the job: letters, digits, ".", "_" and "-"')
      .option('--model <name>', "the model whose endpoint labels the job (written to <job>/_job.json); default: the pipeline's default model")
      .option('--mode <mode>', 'online (predict calls), batch (Vertex AI batch prediction jobs) or auto (the cost model picks; see `dropship cost`)', 'online')
      .option('--deadline <duration>', 'with --mode auto: the job must finish within this long, e.g. 2h')
      .option('--wait', 'follow the job until every uploaded image has a result; exit 1 if any is an ERROR')
      .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt('--timeout'), 3600)
      .option('--json', 'print the final counts as JSON on stdout'),
  ).action(async (paths: string[], flags: LabelFlags) => {
    const uploads = planUploads(paths, flags);
    const target = await resolveTarget(flags);
    try {
      const counts = await label(target, uploads, flags);
      if (flags.json) process.stdout.write(JSON.stringify({ job: flags.job, uploaded: uploads.length, ...counts }) + '\n');
      if (counts && counts.error > 0) {
        throw new CommandFailed(`${counts.error} of ${counts.ok + counts.error} images of job ${flags.job} got ERROR results: see \`dropship results ${flags.job}\``);
      }
    } finally {
      await target.close();
    }
  });
  return runCommand(program, argv);
}

export interface PlannedUpload extends LocalFile {
  /** object name under the job folder */
  name: string;
}

/** Files to upload and their names under <job>/; bad names and missing paths are usage errors. */
export function planUploads(paths: string[], flags: { job: string; model?: string; mode?: string; deadline?: string }): PlannedUpload[] {
  if (!JOB_NAME.test(flags.job)) throw new UsageError(`--job '${flags.job}' is not a job name: letters, digits, '.', '_' and '-'`);
  const mode = flags.mode ?? 'online';
  if (!['online', 'batch', 'auto'].includes(mode)) throw new UsageError(`--mode '${mode}' is not one of online, batch, auto`);
  if (flags.deadline !== undefined && !/^\d+(\.\d+)?(m|h|d)$/.test(flags.deadline)) throw new UsageError(`--deadline '${flags.deadline}' is not a duration such as 90m, 2h or 1d`);
  // Batch and auto jobs are manifest jobs: the images go under _batch/<job>/images/ (which intake
  // does not label one by one), and <job>/_manifest.jsonl names them with the job's options.
  const prefix = mode === 'online' ? flags.job : `_batch/${flags.job}/images`;
  if (flags.model !== undefined && !MODEL_NAME.test(flags.model)) {
    throw new UsageError(`--model '${flags.model}' is not a model name: lowercase letters, digits and hyphens, starting with a letter`);
  }
  const out: PlannedUpload[] = [];
  const seen = new Map<string, string>();
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) throw new UsageError(`no such file or folder: ${p}`);
    const files: PlannedUpload[] = statSync(abs).isDirectory()
      ? listFiles(abs).map((f) => ({ ...f, name: `${prefix}/${f.relative}` }))
      : [{ path: abs, relative: basename(abs), size: statSync(abs).size, name: `${prefix}/${basename(abs)}` }];
    for (const f of files) {
      const other = seen.get(f.name);
      if (other) throw new UsageError(`${f.path} and ${other} would both be uploaded as ${f.name}`);
      seen.set(f.name, f.path);
      out.push(f);
    }
  }
  if (out.length === 0) throw new UsageError(`nothing to label in ${paths.join(', ')}`);
  return out;
}

/** Uploads (with `_job.json` first when a model is named) and, with `wait`, follows the job. */
export async function label(
  target: Target,
  uploads: PlannedUpload[],
  opts: { job: string; model?: string; mode?: 'online' | 'batch' | 'auto'; deadline?: string; wait?: boolean; timeout?: number; quiet?: boolean },
): Promise<JobCounts | undefined> {
  const bucket = target.storage().bucket(target.bucket('images'));
  const before = opts.wait ? await countResults(target.firestore(), opts.job) : { ok: 0, error: 0 };
  if (opts.model) {
    // Intake reads the job's model from _job.json: it must be there before the first image.
    await bucket.file(`${opts.job}/_job.json`).save(JSON.stringify({ model: opts.model }), { resumable: false, contentType: 'application/json' });
  }
  if (!opts.quiet) process.stderr.write(`uploading ${uploads.length} files to gs://${bucket.name}/${opts.job}/\n`);
  await uploadFiles(bucket, { files: uploads, destination: (f) => (f as PlannedUpload).name }, { label: 'upload', quiet: opts.quiet });
  if (opts.mode && opts.mode !== 'online') {
    const options = { ...(opts.model ? { model: opts.model } : {}), mode: opts.mode, ...(opts.deadline ? { deadline: opts.deadline } : {}) };
    const lines = [JSON.stringify(options), ...uploads.map((u) => JSON.stringify({ uri: `gs://${bucket.name}/${u.name}` }))];
    await bucket.file(`${opts.job}/_manifest.jsonl`).save(`${lines.join('\n')}\n`, { resumable: false, contentType: 'application/jsonl' });
    if (!opts.quiet) process.stderr.write(`wrote gs://${bucket.name}/${opts.job}/_manifest.jsonl (mode ${opts.mode})\n`);
  }
  if (!opts.wait) {
    if (!opts.quiet) process.stderr.write(`uploaded; read results with \`dropship results ${opts.job} --follow\`\n`);
    return undefined;
  }
  const expected = before.ok + before.error + uploads.length;
  const counts = await followJob(target.firestore(), opts.job, expected, { timeoutMs: (opts.timeout ?? 3600) * 1000, quiet: opts.quiet });
  if (!opts.quiet) process.stderr.write(`job ${opts.job}: ${counts.ok} OK, ${counts.error} ERROR\n`);
  return counts;
}
