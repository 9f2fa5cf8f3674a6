import { Command } from 'commander';
import type { TrafficChangeResult } from '#shared/deployment/promote';
import type { DeploymentContext } from '#shared/deployment/context';
import { UsageError } from './cli-errors';
import { MODEL_NAME, VERSION_NAME } from './check-model-folder';
import { cliDeploymentContext } from './deployment-context';
import { positiveInt, runCommand } from './run-command';
import { addTargetOptions, resolveTarget, type TargetFlags } from './target';

interface TrafficFlags extends TargetFlags {
  wait?: boolean;
  timeout: number;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `promote` and `rollback` share their shape: check the names, call the deployment core on the
 * target, optionally wait for the undeploys or the redeploy it started, and print the split.
 */
export function trafficCommand(spec: {
  name: string;
  description: string;
  versionArg: string;
  run: (ctx: DeploymentContext, model: string, version: string | undefined, waitMs: number | undefined) => Promise<TrafficChangeResult>;
}): (argv: string[]) => Promise<number> {
  return (argv) => {
    const program = addTargetOptions(
      new Command(`dropship ${spec.name}`)
        .description(spec.description)
        .argument('<model>', 'the model')
        .argument(spec.versionArg, 'the version')
        .option('--wait', 'wait until the versions it undeploys or deploys again have settled')
        .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt('--timeout'), 1800)
        .option('--json', 'print the resulting traffic split as JSON on stdout')
        .option('--verbose', "show the deployment core's logs on stderr"),
    ).action(async (model: string, version: string | undefined, flags: TrafficFlags) => {
      if (!MODEL_NAME.test(model)) throw new UsageError(`'${model}' is not a model name`);
      if (version !== undefined && !VERSION_NAME.test(version)) throw new UsageError(`'${version}' is not a version name`);
      const target = await resolveTarget(flags);
      const ctx = cliDeploymentContext(target, flags.verbose);
      try {
        const result = await spec.run(ctx, model, version, flags.wait ? flags.timeout * 1000 : undefined);
        if (flags.json) {
          process.stdout.write(JSON.stringify({ model, ...result }, null, 2) + '\n');
        } else {
          const split =
            Object.entries(result.traffic)
              .map(([v, p]) => `${v} ${p}%`)
              .join(', ') || 'no traffic';
          const more = [
            result.retiring.length ? `${flags.wait ? 'undeployed' : 'undeploying'} ${result.retiring.join(', ')}` : '',
            result.redeploying ? (flags.wait ? `deployed ${result.redeploying} again` : `deploying ${result.redeploying} again (follow with \`dropship status ${model}\`)`) : '',
          ].filter(Boolean);
          process.stdout.write(`${model}: ${split}${more.length ? `; ${more.join('; ')}` : ''}\n`);
        }
      } finally {
        await ctx.close();
        await target.close();
      }
    });
    return runCommand(program, argv);
  };
}
