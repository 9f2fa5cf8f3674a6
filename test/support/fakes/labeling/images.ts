import type { ObjectRef } from '#shared/labeling/core/gs-uri';
import type { ImageCodec, ImageHeader, ModelEndpoints, ModelTarget, ObjectReader, PredictResponse, Predictor, StoredObject } from '#shared/labeling/ports';
import { InstancesRejectedError } from '#shared/errors';
import { FaultPlan } from '../faults';

/**
 * A stand-in image format the fake codec reads: `FAKEIMG <format> <width>x<height>[ truncated]`
 * then the label the fake model will see. Real pixels are the sharp adapter's tests' business;
 * here only the codec's contract matters (header first, then verify/convert, errors as messages).
 */
export function fakeImage(label: string, opts: { format?: string; width?: number; height?: number; truncated?: boolean } = {}): Buffer {
  return Buffer.from(`FAKEIMG ${opts.format ?? 'jpeg'} ${opts.width ?? 28}x${opts.height ?? 28}${opts.truncated ? ' truncated' : ''}\n${label}`);
}

const HEADER = /^FAKEIMG (\w+) (\d+)x(\d+)( truncated)?\n/;

export class FakeImageCodec implements ImageCodec {
  async header(input: Buffer): Promise<ImageHeader> {
    const m = HEADER.exec(input.toString('latin1'));
    if (!m) throw new Error('Input buffer contains unsupported image format');
    return { format: m[1], width: Number(m[2]), height: Number(m[3]), orientation: 1, colourSpace: 'srgb', channels: 3 };
  }

  async verify(input: Buffer): Promise<void> {
    if (HEADER.exec(input.toString('latin1'))?.[4]) throw new Error('VipsJpeg: premature end of input file');
  }

  async toJpeg(input: Buffer, opts: { maxEdge: number }): Promise<{ bytes: Buffer; width: number; height: number }> {
    await this.verify(input);
    const m = HEADER.exec(input.toString('latin1'))!;
    const [w, h] = [Number(m[2]), Number(m[3])];
    const scale = Math.min(1, opts.maxEdge / Math.max(w, h));
    const [width, height] = [Math.round(w * scale), Math.round(h * scale)];
    return { bytes: Buffer.from(`FAKEIMG jpeg ${width}x${height}\n${input.toString('latin1').slice(m[0].length)}`), width, height };
  }
}

/** Objects in memory; generations as Cloud Storage gives them, a pinned generation must match. */
export class FakeObjectReader implements ObjectReader {
  readonly faults = new FaultPlan<'read' | 'readLine'>();
  /** lines handed out by readLines so far, over every reading (shows how far ahead of its work a reader is) */
  linesYielded = 0;
  private readonly objects = new Map<string, { bytes: Buffer; generation: string }>();
  private generation = 1_700_000_000_000_000;

  put(bucket: string, name: string, bytes: Buffer): ObjectRef & { generation: string } {
    const generation = String(this.generation++);
    this.objects.set(`${bucket}/${name}`, { bytes, generation });
    return { bucket, name, generation };
  }

  async read(ref: ObjectRef, maxBytes: number): Promise<StoredObject | undefined> {
    this.faults.check('read', ref);
    const o = this.objects.get(`${ref.bucket}/${ref.name}`);
    if (!o || (ref.generation !== undefined && ref.generation !== o.generation)) return undefined;
    return { generation: o.generation, size: o.bytes.length, ...(o.bytes.length <= maxBytes ? { bytes: Buffer.from(o.bytes) } : {}), contentType: 'image/jpeg' };
  }

  /** one line at a time, as a read stream gives them; a 'readLine' fault breaks the stream mid-object */
  async *readLines(ref: ObjectRef): AsyncIterable<string> {
    const o = this.objects.get(`${ref.bucket}/${ref.name}`);
    if (!o || (ref.generation !== undefined && ref.generation !== o.generation)) throw Object.assign(new Error(`No such object: ${ref.bucket}/${ref.name}`), { code: 404 });
    const text = o.bytes.toString('utf8');
    const lines = text.split(/\r?\n/);
    if (text.endsWith('\n')) lines.pop();
    for (const line of lines) {
      this.faults.check('readLine', ref);
      this.linesYielded++;
      yield line;
    }
  }
}

export class FakeModelEndpoints implements ModelEndpoints {
  readonly targets = new Map<string, ModelTarget>();

  async endpointOf(model: string): Promise<ModelTarget | undefined> {
    return this.targets.get(model);
  }
}

/**
 * An endpoint whose model reads the label out of the fake image; an instance that is not a
 * fake JPEG fails the whole call (Vertex AI's INVALID_ARGUMENT), as the port promises: an
 * InstancesRejectedError.
 */
export class FakePredictor implements Predictor {
  readonly faults = new FaultPlan<'predict'>();
  readonly calls: number[] = [];

  async predict(endpoint: string, instances: readonly Buffer[]): Promise<PredictResponse> {
    this.faults.check('predict', endpoint, instances.length);
    this.calls.push(instances.length);
    const labels = instances.map((b, i) => {
      const m = /^FAKEIMG jpeg \d+x\d+\n(.*)$/s.exec(b.toString('latin1'));
      if (!m || m[1] === 'REJECT') throw new InstancesRejectedError(`3 INVALID_ARGUMENT: instances[${i}]: the model could not decode the image`);
      return m[1]!;
    });
    return { predictions: labels.map((label) => ({ label, confidence: 0.9 })), deployedModelId: 'dm-1', model: 'projects/p/locations/us-central1/models/digits', modelVersionId: '1' };
  }
}
