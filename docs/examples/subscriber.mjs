// A subscriber of dropship's results that handles redelivery: node subscriber.mjs SUBSCRIPTION
// (GOOGLE_CLOUD_PROJECT names the subscription's project; PUBSUB_EMULATOR_HOST the emulator).
import { PubSub } from '@google-cloud/pubsub';

const work = new Map(); // resultId -> its handling; a real consumer keeps the keys where its output goes
const subscription = new PubSub().subscription(process.argv[2]);

subscription.on('message', async (message) => {
  // a copy of a result (a redelivery, or a rare second publish) carries the same resultId,
  // and may arrive while the first is still being handled: it waits for that one
  const key = message.attributes.resultId ?? `${message.attributes.type} ${message.attributes.job}`;
  if (!work.has(key))
    work.set(
      key,
      handle(JSON.parse(message.data.toString('utf8'))).catch((err) => {
        work.delete(key);
        throw err;
      }),
    );
  try {
    await work.get(key);
    message.ack(); // only after the work is done: a crash before this means redelivery, not loss
  } catch (err) {
    console.error(`will be redelivered: ${err.message}`);
    message.nack();
  }
});
subscription.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
process.on('SIGINT', () => subscription.close().then(() => process.exit(0)));

async function handle(body) {
  if (body.type === 'result') console.log(`${body.status} ${body.imageUri} ${body.label ?? body.reason}`);
  else if (body.type === 'job-completed') console.log(`job ${body.job} done: ${body.counts.ok} OK, ${body.counts.error} ERROR`);
}
