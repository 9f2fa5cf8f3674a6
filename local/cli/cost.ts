import { Command } from 'commander';
import { chooseRoute, formatHours, parseDeadline, type CostEstimate, type RouteChoice } from '#shared/labeling/cost/cost-model';
import { costInputs, type CostConfig } from '#shared/labeling/cost/cost-inputs';
import { PRICE_TABLE } from '#shared/labeling/cost/price-table';
import { CommandFailed, UsageError } from './cli-errors';
import { JOB_NAME } from './label';
import { positiveInt, runCommand } from './run-command';
import { addTargetOptions, resolveTarget, type TargetFlags } from './target';

interface CostFlags extends TargetFlags {
  images?: number;
  model?: string;
  deadline?: string;
  onlineMachine: string;
  onlineReplicas: number;
  onlineRate: number;
  batchMachine: string;
  batchNodes: number;
  batchRate: number;
  startupMinutes: number;
  json?: boolean;
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new UsageError(`${name} must be a number > 0, got '${v}'`);
  return n;
};

/**
 * `dropship cost JOB` or `dropship cost --images N [--model M]`: what the job costs online and
 * as a batch prediction job, and the route `auto` would take. The rates are images/s per
 * replica or node: pass what `dropship loadtest` / `npm run bench` measured for your model.
 */
export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship cost')
      .description('estimate a labeling job online vs as a Vertex AI batch prediction job, and the route "auto" takes')
      .argument('[job]', 'a job already submitted: its image count is read from jobs/{job}')
      .option('--images <n>', 'the number of images (instead of a job)', positiveInt('--images'))
      .option('--model <name>', 'the model (shown with the estimate)')
      .option('--deadline <duration>', 'the job must finish within this long, e.g. 90m, 2h, 1d')
      .option('--online-machine <type>', 'machine type of the endpoint replicas', 'n1-standard-4')
      .option('--online-replicas <n>', 'replicas serving the endpoint', positiveInt('--online-replicas'), 1)
      .option('--online-rate <images/s>', 'images a second one replica labels (measured)', positive('--online-rate'), 50)
      .option('--batch-machine <type>', 'machine type of the batch nodes', 'n1-standard-4')
      .option('--batch-nodes <n>', 'batch nodes (maxReplicaCount)', positiveInt('--batch-nodes'), 4)
      .option('--batch-rate <images/s>', 'images a second one batch node labels', positive('--batch-rate'), 50)
      .option('--startup-minutes <m>', 'batch node start-up, billed', positive('--startup-minutes'), 15)
      .option('--json', 'print the estimate as JSON on stdout'),
  ).action(async (job: string | undefined, flags: CostFlags) => {
    if ((job === undefined) === (flags.images === undefined)) throw new UsageError('give a job, or --images N (not both)');
    if (job !== undefined && !JOB_NAME.test(job)) throw new UsageError(`'${job}' is not a job name`);
    const deadlineMs = flags.deadline === undefined ? undefined : parseDeadline(flags.deadline);
    if (flags.deadline !== undefined && deadlineMs === undefined) throw new UsageError(`--deadline '${flags.deadline}' is not a duration such as 90m, 2h or 1d`);
    let images = flags.images ?? 0;
    let model = flags.model;
    if (job !== undefined) {
      const target = await resolveTarget(flags);
      try {
        const doc = (await target.firestore().doc(`jobs/${job}`).get()).data();
        if (!doc) throw new CommandFailed(`job ${job} was not found (jobs/${job})`);
        if (typeof doc.total !== 'number') throw new CommandFailed(`job ${job} has no image count yet (only manifest jobs have one); use --images N`);
        images = doc.total;
        model ??= typeof doc.model === 'string' ? doc.model : undefined;
      } finally {
        await target.close();
      }
    }
    const choice = estimate(flags, images, deadlineMs);
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ ...(job ? { job } : {}), ...(model ? { model } : {}), ...choice, priceTable: { date: PRICE_TABLE.date, source: PRICE_TABLE.source } })}\n`
        : costTable(choice, model),
    );
  });
  return runCommand(program, argv);
}

export function estimate(
  flags: Pick<CostFlags, 'onlineMachine' | 'onlineReplicas' | 'onlineRate' | 'batchMachine' | 'batchNodes' | 'batchRate' | 'startupMinutes'>,
  images: number,
  deadlineMs: number | undefined,
): RouteChoice {
  const cfg: CostConfig = {
    ONLINE_MACHINE_TYPE: flags.onlineMachine,
    ONLINE_REPLICAS: flags.onlineReplicas,
    ONLINE_IMAGES_PER_SECOND_PER_REPLICA: flags.onlineRate,
    BATCH_MACHINE_TYPE: flags.batchMachine,
    BATCH_MAX_NODES: flags.batchNodes,
    BATCH_IMAGES_PER_SECOND_PER_NODE: flags.batchRate,
    BATCH_STARTUP_MINUTES: flags.startupMinutes,
  };
  try {
    return chooseRoute(PRICE_TABLE, costInputs(cfg, images, deadlineMs));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function costTable(choice: RouteChoice, model?: string): string {
  const e: CostEstimate = choice.estimate;
  const row = (r: CostEstimate['online']) => [r.route, formatHours(r.hours), r.nodeHours.toFixed(3), `$${r.usd.toFixed(4)}`, r.meetsDeadline ? 'yes' : 'NO'];
  const rows = [['route', 'wall time', 'node-hours', 'cost (USD)', 'meets deadline'], row(e.online), row(e.batch)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  return [
    `${e.images} images${model ? ` for model ${model}` : ''}`,
    ...lines,
    `auto: ${choice.route} (${choice.reason})`,
    `prices: ${PRICE_TABLE.region}, dated ${PRICE_TABLE.date}: re-check them at https://cloud.google.com/vertex-ai/pricing`,
    '',
  ].join('\n');
}
