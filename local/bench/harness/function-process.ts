/**
 * A child process that serves some of the functions, the way one Cloud Run instance serves
 * one function: its own memory, its own module state (the predict worker's batchers), and
 * killable on its own. The parent passes BENCH_FUNCTIONS (JSON [{name, source, port,
 * pubsubSource?}]) and the functions' environment; it asks for figures over IPC.
 */
import { serveFunction } from '#local/functions-host/serve-function';
import { predictStats } from '#functions/predict-worker/predict-stats';

interface Served {
  name: string;
  source: string;
  port: number;
  pubsubSource?: string;
}

export type ChildMessage = { type: 'ready' } | { type: 'stats'; predictStats: typeof predictStats; rss: number };

async function run(): Promise<void> {
  const specs = JSON.parse(process.env.BENCH_FUNCTIONS ?? '[]') as Served[];
  for (const s of specs) {
    await import(`#functions/${s.source}/index`);
    await serveFunction(s.name, { port: s.port, ...(s.pubsubSource ? { pubsubSource: s.pubsubSource } : {}) });
  }
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stats') process.send?.({ type: 'stats', predictStats: { ...predictStats }, rss: process.memoryUsage.rss() } satisfies ChildMessage);
  });
  // The parent going away must not leave this process serving forever.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready' } satisfies ChildMessage);
}

run().catch((err: unknown) => {
  process.stderr.write(`function process failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
