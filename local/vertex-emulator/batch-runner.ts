import { status } from '@grpc/grpc-js';
import { ImageDecodeError } from '#local/model/image-errors';
import type { Classification } from '#local/model/onnx-image-classifier';
import { matchObjects, readObject, type GcsUri, type ObjectWriter } from './batch-io';
import type { BatchJobSpec, RpcStatus } from './batch-job-store';
import type { Json } from './value';

/**
 * What a batch prediction job does once RUNNING, as Vertex AI documents it: read every input
 * file in order, turn each line into an instance (instanceConfig: keyField is taken out and
 * echoed as `key`, includedFields / excludedFields pick the fields sent, instanceType "array"
 * sends the included fields' values in order), run them through the model `batchSize` at a time,
 * and write one PredictionResult line per instance: `{"instance"|"key", "prediction"}` to
 * predictions_NNNNN.jsonl, `{"instance"|"key", "error": {code, message}}` to errors_NNNNN.jsonl
 * (reference: PredictionResult, "a line of JSONL in the batch prediction output file"; the error's
 * code is google.rpc.Code's number, as FACTS.md records errors_* lines carrying {code, message}).
 * An input file that cannot be read is a partial failure, not an error line.
 */
export interface Classifier {
  classify(images: Uint8Array[]): Promise<Classification[]>;
}

export interface RunIo {
  gcsRoot: string | undefined;
  write: ObjectWriter;
  /** true once the job is being cancelled or the emulator stops: no further batch starts */
  shouldStop(): boolean;
}

export interface RunOutcome {
  successfulCount: number;
  failedCount: number;
  /** instances not run because the job was cancelled */
  incompleteCount: number;
  partialFailures: RpcStatus[];
  /** input files matched; 0 means the job has nothing to read */
  inputFiles: number;
  stopped: boolean;
}

/** Lines per output file before the next one is started. */
export const LINES_PER_FILE = 10_000;
const MAX_PARTIAL_FAILURES = 20;

interface Item {
  /** `key` or `instance`, whichever the output line carries */
  echo: { key: string } | { instance: Json };
  image?: Uint8Array;
  error?: RpcStatus;
}

export async function runBatch(spec: BatchJobSpec, outputDir: GcsUri, model: Classifier, io: RunIo): Promise<RunOutcome> {
  const partialFailures: RpcStatus[] = [];
  const fail = (s: RpcStatus) => {
    if (partialFailures.length < MAX_PARTIAL_FAILURES) partialFailures.push(s);
  };
  const files: GcsUri[] = [];
  for (const uri of spec.uris) {
    const matched = await matchObjects(io.gcsRoot, uri);
    if (!matched.length) fail({ code: status.NOT_FOUND, message: `No files match ${uri}.` });
    files.push(...matched);
  }

  const items: Item[] = [];
  let readable = 0;
  for (const f of files) {
    let text: string;
    try {
      text = (await readObject(io.gcsRoot, f)).toString('utf8');
    } catch (err) {
      fail({ code: status.NOT_FOUND, message: `gs://${f.bucket}/${f.name} could not be read: ${(err as Error).message}` });
      continue;
    }
    readable++;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      items.push(spec.instancesFormat === 'file-list' ? await fileListItem(line.trim(), io.gcsRoot) : jsonlItem(line, spec));
    }
  }

  const out = new OutputFiles(outputDir, io.write);
  let done = 0;
  let stopped = false;
  for (let start = 0; start < items.length; start += spec.batchSize) {
    if (io.shouldStop()) {
      stopped = true;
      break;
    }
    const batch = items.slice(start, start + spec.batchSize);
    const results = await classifyIsolatingErrors(model, batch);
    batch.forEach((item, i) => {
      const r = results[i];
      if (item.error || !r || 'error' in r) out.error({ ...item.echo, error: item.error ?? (r as { error: RpcStatus }).error });
      else out.prediction({ ...item.echo, prediction: { label: r.label, confidence: r.confidence } });
    });
    done = start + batch.length;
    await out.flushFull();
  }
  if (!stopped) done = items.length;
  await out.close();
  return {
    successfulCount: out.predictions,
    failedCount: out.errors,
    incompleteCount: items.length - done,
    partialFailures,
    inputFiles: readable,
    stopped,
  };
}

function jsonlItem(line: string, spec: BatchJobSpec): Item {
  let parsed: Json;
  try {
    parsed = JSON.parse(line) as Json;
  } catch (err) {
    return { echo: { instance: line }, error: { code: status.INVALID_ARGUMENT, message: `The line is not JSON: ${(err as Error).message}` } };
  }
  let instance: Json = parsed;
  let echo: Item['echo'] = { instance: parsed };
  if (isObject(parsed)) {
    const fields = { ...parsed };
    if (spec.keyField) {
      const key = fields[spec.keyField];
      if (key === undefined) {
        return { echo, error: { code: status.INVALID_ARGUMENT, message: `The instance has no key field "${spec.keyField}".` } };
      }
      delete fields[spec.keyField];
      echo = { key: typeof key === 'string' ? key : JSON.stringify(key) };
    }
    if (spec.includedFields.length) {
      const picked: Record<string, Json> = {};
      for (const f of spec.includedFields) if (f in fields) picked[f] = fields[f]!;
      instance = spec.instanceType === 'array' ? spec.includedFields.map((f) => fields[f] ?? null) : picked;
    } else {
      for (const f of spec.excludedFields) delete fields[f];
      instance = spec.instanceType === 'array' ? Object.values(fields) : fields;
    }
    if (!spec.keyField) echo = { instance };
  }
  const b64 = imageB64(instance);
  if (b64 === undefined) {
    return { echo, error: { code: status.INVALID_ARGUMENT, message: 'Expected {"string_input": {"b64": "<base64 image>"}}, the input of the serving_default signature.' } };
  }
  return { echo, image: Buffer.from(b64, 'base64') };
}

/** file-list: each line names a file, sent to the model as {"b64": <its bytes>}. */
async function fileListItem(uri: string, gcsRoot: string | undefined): Promise<Item> {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) return { echo: { instance: uri }, error: { code: status.INVALID_ARGUMENT, message: `"${uri}" is not a gs://bucket/path URI.` } };
  try {
    const bytes = await readObject(gcsRoot, { bucket: m[1]!, name: m[2]! });
    return { echo: { instance: { b64: bytes.toString('base64') } }, image: bytes };
  } catch (err) {
    return { echo: { instance: uri }, error: { code: status.NOT_FOUND, message: `${uri} could not be read: ${(err as Error).message}` } };
  }
}

function imageB64(instance: Json): string | undefined {
  const wrapped = isObject(instance) && 'string_input' in instance ? instance.string_input : instance;
  return isObject(wrapped) && typeof wrapped.b64 === 'string' ? wrapped.b64 : undefined;
}

/** One model call per batch; an image that does not decode is answered alone and the rest run again. */
async function classifyIsolatingErrors(model: Classifier, batch: Item[]): Promise<Array<Classification | { error: RpcStatus } | undefined>> {
  const out: Array<Classification | { error: RpcStatus } | undefined> = batch.map(() => undefined);
  let pending = batch.map((item, i) => ({ item, i })).filter(({ item }) => !item.error && item.image);
  while (pending.length) {
    try {
      const results = await model.classify(pending.map(({ item }) => item.image!));
      pending.forEach(({ i }, k) => (out[i] = results[k]));
      pending = [];
    } catch (err) {
      if (!(err instanceof ImageDecodeError)) throw err;
      const bad = pending[err.index]!;
      out[bad.i] = { error: { code: status.INVALID_ARGUMENT, message: err.message.replace(/^image \d+: /, 'The image cannot be decoded: ') } };
      pending = pending.filter((_, k) => k !== err.index);
    }
  }
  return out;
}

/** predictions_NNNNN.jsonl / errors_NNNNN.jsonl, a new file every LINES_PER_FILE lines; each kind gets at least one file. */
class OutputFiles {
  predictions = 0;
  errors = 0;
  private readonly buffers = { predictions: [] as string[], errors: [] as string[] };
  private readonly fileNo = { predictions: 0, errors: 0 };

  constructor(
    private readonly dir: GcsUri,
    private readonly write: ObjectWriter,
  ) {}

  prediction(line: Record<string, unknown>): void {
    this.predictions++;
    this.buffers.predictions.push(JSON.stringify(line));
  }

  error(line: Record<string, unknown>): void {
    this.errors++;
    this.buffers.errors.push(JSON.stringify(line));
  }

  async flushFull(): Promise<void> {
    for (const kind of ['predictions', 'errors'] as const) {
      while (this.buffers[kind].length >= LINES_PER_FILE) await this.flush(kind, this.buffers[kind].splice(0, LINES_PER_FILE));
    }
  }

  async close(): Promise<void> {
    await this.flushFull();
    for (const kind of ['predictions', 'errors'] as const) {
      if (this.buffers[kind].length || this.fileNo[kind] === 0) await this.flush(kind, this.buffers[kind].splice(0));
    }
  }

  private async flush(kind: 'predictions' | 'errors', lines: string[]): Promise<void> {
    const n = String(++this.fileNo[kind]).padStart(5, '0');
    const body = lines.length ? `${lines.join('\n')}\n` : '';
    await this.write({ bucket: this.dir.bucket, name: `${this.dir.name}/${kind}_${n}.jsonl` }, Buffer.from(body), 'application/jsonl');
  }
}

function isObject(j: Json | undefined): j is { [k: string]: Json } {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}
