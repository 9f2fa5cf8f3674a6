import type { Bucket } from '@google-cloud/storage';
import { SingleBar, Presets } from 'cli-progress';
import type { LocalFile } from './list-files';

const PARALLEL = 4;
const RESUMABLE_ABOVE = 8 * 1024 * 1024;

export interface UploadPlan {
  files: LocalFile[];
  /** object name for a file */
  destination(file: LocalFile): string;
  /** objects written after every file has landed (e.g. the `_COMPLETE` marker), in order */
  after?: Array<{ name: string; body: string }>;
}

/**
 * Uploads files to a bucket a few at a time with a progress bar (bytes) on a terminal, then the
 * `after` objects, strictly once everything else is there: a marker must never land before the
 * files it vouches for.
 */
export async function uploadFiles(bucket: Bucket, plan: UploadPlan, opts: { label: string; quiet?: boolean }): Promise<void> {
  const total = plan.files.reduce((n, f) => n + f.size, 0);
  const bar =
    process.stderr.isTTY && !opts.quiet ? new SingleBar({ format: `${opts.label} [{bar}] {percentage}% | {files} | {value_mb}/{total_mb} MB`, hideCursor: true }, Presets.shades_classic) : undefined;
  let done = 0;
  let bytes = 0;
  const payload = () => ({ files: `${done}/${plan.files.length} files`, value_mb: (bytes / 1e6).toFixed(1), total_mb: (total / 1e6).toFixed(1) });
  bar?.start(Math.max(total, 1), 0, payload());
  try {
    const queue = [...plan.files];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        await bucket.upload(file.path, { destination: plan.destination(file), resumable: file.size > RESUMABLE_ABOVE, validation: false });
        done += 1;
        bytes += file.size;
        bar?.update(bytes, payload());
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, plan.files.length) }, worker));
    for (const obj of plan.after ?? []) {
      await bucket.file(obj.name).save(obj.body, { resumable: false, contentType: 'text/plain' });
    }
  } finally {
    bar?.stop();
  }
  if (!bar && !opts.quiet) process.stderr.write(`${opts.label}: uploaded ${done} files, ${(total / 1e6).toFixed(1)} MB\n`);
}
