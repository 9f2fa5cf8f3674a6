import type { PredictionRequest } from '#shared/labeling/core/request-message';
import type { RequestPublisher } from '#shared/labeling/ports';
import { RequestCoalescer } from '#shared/labeling/request-coalescer';

/**
 * The coalescer merges folder images' requests into manifest-sized messages without losing the
 * property intake's exactly-once rests on: a caller's promise resolves only once a message
 * carrying its image is published, and rejects if that message failed.
 */
function recordingPublisher(fail?: (req: PredictionRequest) => boolean) {
  const published: Array<{ body: PredictionRequest; attributes: Record<string, string> }> = [];
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  const publisher: RequestPublisher = {
    async publishRequest(body, attributes) {
      await gate;
      const req = body as PredictionRequest;
      if (fail?.(req)) throw new Error('publish failed');
      published.push({ body: req, attributes });
    },
  };
  return {
    publisher,
    published,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
  };
}

const image = (job: string, i: number) => ({ job, model: 'digits', images: [{ bucket: 'imgs', name: `${job}/${i}.png`, generation: String(1000 + i) }] });

test('requests of one job made together go out as one message with every image, each with its generation', async () => {
  // Prepare
  const rec = recordingPublisher();
  const c = new RequestCoalescer(rec.publisher, { maxImages: 32, windowMs: 20 });
  // Act
  await Promise.all([0, 1, 2, 3, 4].map((i) => c.publish(image('a', i))));
  // Assess
  expect(rec.published).toHaveLength(1);
  expect(rec.published[0]!.body.images.map((x) => `${x.name}#${x.generation}`)).toEqual([0, 1, 2, 3, 4].map((i) => `a/${i}.png#${1000 + i}`));
  expect(rec.published[0]!.attributes).toEqual({ job: 'a', model: 'digits', images: '5' });
});

test('no message holds more than maxImages, other jobs and models get messages of their own, a full request passes as it is', async () => {
  const rec = recordingPublisher();
  const c = new RequestCoalescer(rec.publisher, { maxImages: 4, windowMs: 20 });
  const full = { job: 'a', model: 'digits', images: [0, 1, 2, 3].map((i) => image('a', 100 + i).images[0]!) };
  await Promise.all([...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => c.publish(image('a', i))), c.publish(image('b', 0)), c.publish({ ...image('a', 50), model: 'other' }), c.publish(full)]);
  const sizes = rec.published.map((p) => `${p.body.job}/${p.body.model}:${p.body.images.length}`).sort();
  expect(sizes).toEqual(['a/digits:2', 'a/digits:4', 'a/digits:4', 'a/digits:4', 'a/other:1', 'b/digits:1'].sort());
  const names = rec.published.flatMap((p) => p.body.images.map((x) => x.name));
  expect(new Set(names).size).toBe(names.length); // every image in exactly one message
  expect(names).toHaveLength(10 + 1 + 1 + 4);
});

test('a caller resolves only after the message with its image is published', async () => {
  const rec = recordingPublisher();
  rec.hold();
  const c = new RequestCoalescer(rec.publisher, { maxImages: 2, windowMs: 1 });
  let settled = false;
  const p = Promise.all([c.publish(image('a', 0)), c.publish(image('a', 1))]).then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 30));
  expect(settled).toBe(false);
  expect(rec.published).toHaveLength(0);
  rec.release();
  await p;
  expect(settled).toBe(true);
  expect(rec.published).toHaveLength(1);
});

test('a failed message rejects every caller whose image it carried, and only those', async () => {
  const rec = recordingPublisher((req) => req.job === 'bad');
  const c = new RequestCoalescer(rec.publisher, { maxImages: 32, windowMs: 10 });
  const outcomes = await Promise.allSettled([c.publish(image('bad', 0)), c.publish(image('bad', 1)), c.publish(image('good', 0))]);
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  expect(rec.published.map((p) => p.body.job)).toEqual(['good']);
});
