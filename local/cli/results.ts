import { createWriteStream, type WriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import type { DocumentData, Firestore } from '@google-cloud/firestore';
import { CommandFailed, UsageError } from './cli-errors';
import { asReader, type DocumentReader } from './document-reader';
import { JOB_NAME } from './label';
import { csvHeader, formatLine, type ResultFormat, type ResultRow } from './result-format';
import { positiveInt, runCommand } from './run-command';
import { addTargetOptions, resolveTarget, type TargetFlags } from './target';
import { documentReader } from './target-documents';

interface ResultsFlags extends TargetFlags {
  json?: boolean;
  follow?: boolean;
  format?: 'csv' | 'jsonl';
  out?: string;
  count?: number;
}

export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship results')
      .description("print a job's results (jobs/<job>/results in Firestore); --follow streams them as they land")
      .argument('<job>', 'the job')
      .option('--json', 'a JSON array of every result (with --follow: one JSON object per line)')
      .option('--follow', 'keep printing results as they land, until the job completes, --count results are in, or Ctrl-C')
      .addOption(new Option('--format <format>', 'csv or jsonl instead of a table').choices(['csv', 'jsonl']))
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--count <n>', 'with --follow: stop once the job has this many results', positiveInt('--count')),
  ).action(async (job: string, flags: ResultsFlags) => {
    if (!JOB_NAME.test(job)) throw new UsageError(`'${job}' is not a job name`);
    if (flags.json && flags.format) throw new UsageError('--json and --format are alternatives: pick one');
    const target = await resolveTarget(flags);
    const out: NodeJS.WritableStream = flags.out ? createWriteStream(flags.out) : process.stdout;
    try {
      const format: ResultFormat = flags.format ?? (flags.json ? 'jsonl' : 'table');
      if (format === 'csv') out.write(csvHeader());
      if (flags.follow) {
        await followResults(target.firestore(), job, (r) => out.write(formatLine(format, r)), flags.count);
      } else {
        // one read over REST, with no Firestore client to load (--follow keeps the client's listeners)
        const rows = await readResults(documentReader(target), job);
        if (flags.json) out.write(JSON.stringify(rows, null, 2) + '\n');
        else for (const r of rows) out.write(formatLine(format, r));
      }
    } finally {
      if (flags.out) await new Promise<void>((r) => (out as WriteStream).end(() => r()));
      await target.close();
    }
  });
  return runCommand(program, argv);
}

/** The pipeline's own bookkeeping on a result document, not part of the result. */
const BOOKKEEPING = /^(_|publish|lease)/;

export function toRow(id: string, data: DocumentData): ResultRow {
  const row: ResultRow = { id };
  for (const [k, v] of Object.entries(data)) {
    if (BOOKKEEPING.test(k)) continue;
    row[k] = isTimestamp(v) ? v.toDate().toISOString() : v;
  }
  return row;
}

/** the Node client's Timestamp, or the REST reader's (both have toDate()); checked by shape so neither client loads for it */
function isTimestamp(v: unknown): v is { toDate(): Date } {
  return typeof v === 'object' && v !== null && typeof (v as { toDate?: unknown }).toDate === 'function' && '_seconds' in v;
}

export async function readResults(source: Firestore | DocumentReader, job: string): Promise<ResultRow[]> {
  const reader = asReader(source);
  const [jobData, results] = await Promise.all([reader.get(`jobs/${job}`), reader.list(`jobs/${job}/results`)]);
  if (!jobData && results.length === 0) throw new CommandFailed(`no job ${job}`);
  return results.map((d) => toRow(d.id, d.data)).sort((a, b) => String(a.imageUri).localeCompare(String(b.imageUri)));
}

/**
 * Streams results as they are written, from a Firestore listener (results already there come
 * first). Ends when the job says COMPLETED and every counted result has been seen, or when
 * `count` results are in; otherwise runs until interrupted.
 */
export function followResults(firestore: Firestore, job: string, emit: (r: ResultRow) => void, count?: number): Promise<void> {
  const jobRef = firestore.collection('jobs').doc(job);
  const seen = new Set<string>();
  let completedTotal: number | undefined;
  return new Promise<void>((resolve, reject) => {
    const unsubs: Array<() => void> = [];
    const stop = () => finish();
    const finish = (err?: unknown) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      unsubs.forEach((u) => u());
      if (err) reject(err);
      else resolve();
    };
    // before the listeners: opening them loads the gRPC client synchronously, and a signal in
    // that window would otherwise kill the process with Node's default action
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const check = () => {
      if ((count !== undefined && seen.size >= count) || (completedTotal !== undefined && seen.size >= completedTotal)) finish();
    };
    unsubs.push(
      jobRef.collection('results').onSnapshot((snap) => {
        for (const change of snap.docChanges()) {
          if (change.type === 'removed' || seen.has(change.doc.id)) continue;
          seen.add(change.doc.id);
          emit(toRow(change.doc.id, change.doc.data()));
        }
        check();
      }, finish),
    );
    unsubs.push(
      jobRef.onSnapshot((snap) => {
        const data = snap.data() as { state?: string; counts?: { ok?: number; error?: number }; total?: number } | undefined;
        if (data?.state === 'COMPLETED') completedTotal = data.total ?? (data.counts?.ok ?? 0) + (data.counts?.error ?? 0);
        check();
      }, finish),
    );
  });
}
