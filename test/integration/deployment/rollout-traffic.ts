import { PubSub } from '@google-cloud/pubsub';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { SeededRandom } from '#local/model-build/seeded-random';
import { serveFunction, type ServedFunction } from '#local/functions-host/serve-function';
import type { DeploymentStack } from './deployment-stack';
// Registering the functions reads no config: each parses its env on its first event.
import '#functions/image-intake/index';
import '#functions/predict-worker/index';

export const IMAGES_BUCKET = 'rollout-images';
/** where the traffic's images wait, unwatched; manifests in the images bucket name them */
const POOL_BUCKET = 'rollout-pool';
const POOL_SIZE = 300;

/**
 * The labeling pipeline beside the deployment stack, as terraform wires it: image-intake on the
 * images bucket's finalize events, predict-worker behind a push subscription on
 * prediction-requests (bounded retries, a dead-letter topic), both reading the model's endpoint
 * from the Firestore the reconciler writes. Live traffic for the canary analysis is then what it
 * is on Google Cloud: manifests dropped in the bucket, their images labeled by the real worker through the
 * endpoint's split, its results written with the deployed model that answered, its refused calls
 * retried (redelivered) and counted by Vertex AI, not by us.
 */
export async function startLabeling(stack: DeploymentStack, model: string): Promise<Labeling> {
  Object.assign(process.env, {
    IMAGES_BUCKET,
    DEFAULT_MODEL: model,
    PREDICTION_REQUESTS_TOPIC: 'prediction-requests',
    PREDICTION_RESULTS_TOPIC: 'prediction-results',
    // the online path is the one under test: no job goes to batch prediction
    BATCH_ROUTE: 'off',
    // a manifest's request message is 2 images, labeled in one predict call: 50 calls per arm
    // for the error-rate test at 100 results, and half the messages of one image each
    MANIFEST_CHUNK_SIZE: '2',
    PREDICT_COALESCE_MS: '0',
  });
  const topic = (t: string) => `projects/${stack.projectId}/topics/${t}`;
  const served: ServedFunction[] = [await serveFunction('image-intake'), await serveFunction('predict-worker', { pubsubSource: topic('prediction-requests') })];
  const [intake, worker] = served as [ServedFunction, ServedFunction];
  const pubsub = new PubSub({ projectId: stack.projectId });
  const [requests] = await pubsub.createTopic('prediction-requests');
  const [deadLetters] = await pubsub.createTopic('prediction-requests-dead-letter');
  await pubsub.createTopic('prediction-results');
  await requests.createSubscription('predict-worker', {
    pushConfig: { pushEndpoint: worker.url },
    ackDeadlineSeconds: 60,
    deadLetterPolicy: { deadLetterTopic: deadLetters.name, maxDeliveryAttempts: 10 },
    retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 2 } } as never,
  });
  await stack.storage.createBucket(IMAGES_BUCKET);
  await stack.storageEmulator.addNotification({ bucket: IMAGES_BUCKET, url: intake.url, eventTypes: ['google.cloud.storage.object.v1.finalized'] });

  // The pool the traffic draws from: images outside the watched bucket, named by manifests.
  const digits = heldOutDigits().slice(0, POOL_SIZE);
  await stack.storage.createBucket(POOL_BUCKET);
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < digits.length) {
        const i = next++;
        await saveWithRetry(stack, POOL_BUCKET, `d-${i}.png`, await encodeDigit(digits[i]!.pixels, 'png'));
      }
    }),
  );
  const resultsOf = async (job: string) => (await stack.firestore.collection(`jobs/${job}/results`).count().get()).data().count;
  return {
    async sendImages(opts) {
      const random = new SeededRandom(opts.seed);
      const perManifest = opts.perManifest ?? 40;
      const jobs: string[] = [];
      let order: number[] = [];
      let sent = 0;
      while (sent < opts.maxImages && !(await opts.until())) {
        if (order.length < perManifest) order = order.concat(random.shuffle(digits.map((_, i) => i)));
        const chunk = order.splice(0, perManifest);
        const job = `${opts.job}-${jobs.length}`;
        jobs.push(job);
        await saveWithRetry(stack, IMAGES_BUCKET, `${job}/_manifest.txt`, Buffer.from(chunk.map((i) => `gs://${POOL_BUCKET}/d-${i}.png`).join('\n')));
        // a chunk across two shuffles may name an image twice: it is one image (one result) of its job
        sent += new Set(chunk).size;
        // as a steady client would: no more than one manifest waiting ahead of the workers
        for (;;) {
          const labeled = (await Promise.all(jobs.map(resultsOf))).reduce((a, b) => a + b, 0);
          if (labeled >= sent - perManifest || (await opts.until())) break;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      // Drain: the images still in flight (and the redeliveries of failed calls) are labeled
      // before this returns, so none of them lands on the next scenario's canary.
      const drained = Date.now() + 90_000;
      for (;;) {
        const labeled = (await Promise.all(jobs.map(resultsOf))).reduce((a, b) => a + b, 0);
        if (labeled >= sent) break;
        if (Date.now() > drained) throw new Error(`${opts.job}: ${labeled} of ${sent} images labeled 90 s after the last manifest`);
        await new Promise((r) => setTimeout(r, 250));
      }
      return sent;
    },
    async close() {
      await Promise.allSettled([...served.map((f) => f.close()), pubsub.close()]);
    },
  };
}

export interface Labeling {
  /**
   * Labels images through the pipeline until `until` holds or `maxImages` were sent: manifests of
   * `perManifest` (40) pool images in a seeded order, each its own job `<job>-<n>`, the next one
   * written once the previous one is labeled. Returns once every image sent has its result.
   */
  sendImages(opts: { job: string; seed: number; maxImages: number; until: () => Promise<boolean> | boolean; perManifest?: number }): Promise<number>;
  close(): Promise<void>;
}

async function saveWithRetry(stack: DeploymentStack, bucket: string, name: string, bytes: Buffer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await stack.storage.bucket(bucket).file(name).save(bytes, { resumable: false });
      return;
    } catch (err) {
      // a keep-alive socket the server just closed; a finalize fires only on success, so saving again is safe
      if (attempt >= 3 || !/ECONNRESET|socket hang up/.test(String(err))) throw err;
    }
  }
}

/** The golden set as a `_golden/<label>/<n>.png` tree: `perDigit` held-out digits of each label. */
export async function goldenTree(perDigit: number): Promise<Array<[string, Buffer]>> {
  const digits = heldOutDigits();
  const out: Array<[string, Buffer]> = [];
  for (let label = 0; label < 10; label++) {
    // the last held-out samples of each digit, which the live traffic may also draw: a golden set is just labeled data
    const mine = digits.filter((d) => d.label === label).slice(-perDigit);
    for (const [i, d] of mine.entries()) out.push([`_golden/${label}/${i}.png`, await encodeDigit(d.pixels, 'png')]);
  }
  return out;
}
