import { parseManifest } from '#shared/labeling/core/manifest';
import { classifyObject, isPipelineOutput, GENERATED_BY_KEY } from '#shared/labeling/core/object-kind';
import { parseGsUri } from '#shared/labeling/core/gs-uri';
import { resultId } from '#shared/labeling/result';

describe('classifyObject', () => {
  it('reads the job from the first folder and recognises manifests and job options', () => {
    expect(classifyObject('cats/a/b/c.jpg')).toEqual({ kind: 'image', job: 'cats' });
    expect(classifyObject('cats/_manifest.jsonl')).toEqual({ kind: 'manifest', job: 'cats', format: 'jsonl' });
    expect(classifyObject('cats/_manifest.txt')).toEqual({ kind: 'manifest', job: 'cats', format: 'txt' });
    expect(classifyObject('cats/_job.json')).toEqual({ kind: 'job-spec', job: 'cats' });
    // only directly under the job folder are these instructions
    expect(classifyObject('cats/sub/_manifest.txt')).toEqual({ kind: 'image', job: 'cats' });
    expect(classifyObject('loose.jpg').kind).toBe('no-job');
    expect(classifyObject('cats/').kind).toBe('no-job');
  });

  it('recognises objects the pipeline wrote', () => {
    expect(isPipelineOutput({ [GENERATED_BY_KEY]: 'predict-worker' })).toBe(true);
    expect(isPipelineOutput({ other: 'x' })).toBe(false);
    expect(isPipelineOutput(undefined)).toBe(false);
  });
});

describe('parseManifest', () => {
  it('takes {"uri"} lines and JSON strings, the model from the first line, and reports bad lines', () => {
    const text = ['{"model": "mnist-vit"}', '{"uri": "gs://bkt/x/1.png"}', '"gs://bkt/x/2.jpg"', '', 'not json', '{"uri": "http://x/y.jpg"}', '"gs://bkt/x/1.png"'].join('\n');
    const m = parseManifest(text, 'jsonl');
    expect(m.model).toBe('mnist-vit');
    expect(m.entries.map((e) => [e.line, e.ref])).toEqual([
      [2, { bucket: 'bkt', name: 'x/1.png' }],
      [3, { bucket: 'bkt', name: 'x/2.jpg' }],
    ]);
    expect(m.bad.map((b) => b.line)).toEqual([5, 6]);
    expect(m.bad[1]!.reason).toContain('http://x/y.jpg');
    expect(m.duplicates).toBe(1);
  });

  it('reads one gs:// URI per line from .txt, with a pinned generation', () => {
    const m = parseManifest('gs://bkt/a.jpg\r\ngs://bkt/c d.jpg#123\nhello\n', 'txt');
    expect(m.model).toBeUndefined();
    expect(m.entries.map((e) => e.ref)).toEqual([
      { bucket: 'bkt', name: 'a.jpg' },
      { bucket: 'bkt', name: 'c d.jpg', generation: '123' },
    ]);
    expect(m.bad).toEqual([{ line: 3, text: 'hello', reason: 'manifest line is not a gs://bucket/object URI: hello' }]);
  });

  it('does not take a model line that is not the first', () => {
    const m = parseManifest('gs://bkt/a.jpg\n{"model": "x"}', 'txt');
    expect(m.model).toBeUndefined();
    expect(m.bad).toHaveLength(1);
  });
});

describe('ids', () => {
  it('parses gs:// URIs and rejects others', () => {
    expect(parseGsUri('gs://my-bucket/a/b.jpg')).toEqual({ bucket: 'my-bucket', name: 'a/b.jpg' });
    expect(parseGsUri('gs://bkt/')).toBeUndefined();
    expect(parseGsUri('gs://b/x')).toBeUndefined(); // bucket names have 3+ characters
    expect(parseGsUri('s3://b/x')).toBeUndefined();
  });

  it('gives one result id per bucket, object, generation and job', () => {
    const a = resultId('j', 'b', 'x.jpg', '1');
    expect(resultId('j', 'b', 'x.jpg', '1')).toBe(a);
    expect(new Set([a, resultId('j', 'b', 'x.jpg', '2'), resultId('k', 'b', 'x.jpg', '1'), resultId('j', 'c', 'x.jpg', '1'), resultId('j', 'b', 'y.jpg', '1')]).size).toBe(5);
  });
});
