import { resolve } from 'node:path';
import { Command } from 'commander';
import type { VersionRecord } from '#shared/deployment/core/records';
import { MARKER } from '#shared/deployment/core/completeness';
import { CommandFailed } from './cli-errors';
import { checkModelFolder } from './check-model-folder';
import { followVersion } from './follow-version';
import { positiveInt, runCommand } from './run-command';
import { addTargetOptions, resolveTarget, type Target, type TargetFlags } from './target';
import { uploadFiles } from './upload-files';

interface DeployFlags extends TargetFlags {
  model: string;
  version: string;
  wait?: boolean;
  timeout: number;
  json?: boolean;
  check: boolean;
}

export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship deploy')
      .description('upload a SavedModel folder as <model>/<version>/ in the models bucket (the _COMPLETE marker last) and follow its deployment')
      .argument('<dir>', 'the SavedModel folder (saved_model.pb, variables/, optionally deploy.json and model.onnx)')
      .requiredOption('--model <name>', 'the model: lowercase letters, digits, hyphens; starts with a letter')
      .requiredOption('--version <name>', 'the version folder name, e.g. v1')
      .option('--wait', 'follow the deployment until DEPLOYED (exit 0) or FAILED (exit 1)')
      .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt('--timeout'), 3600)
      .option('--json', 'print the final version state as JSON on stdout')
      .option('--no-check', 'upload without validating the folder locally first (the model-drop function validates it anyway)'),
  ).action(async (dir: string, flags: DeployFlags) => {
    // Bad usage and a bad folder are reported before looking for a stack or a project.
    const checked = checkModelFolder(resolve(dir), {
      model: flags.model,
      version: flags.version,
      location: flags.region ?? process.env.VERTEX_LOCATION ?? 'us-central1',
      validate: flags.check,
    });
    const target = await resolveTarget(flags);
    try {
      const record = await deploy(target, resolve(dir), { ...flags, checked });
      if (flags.json) process.stdout.write(JSON.stringify(record ?? { model: flags.model, version: flags.version, state: 'UPLOADED' }, null, 2) + '\n');
    } finally {
      await target.close();
    }
  });
  return runCommand(program, argv);
}

/** Uploads and (with `wait`) follows; also what `dropship up --demo` uses. */
export async function deploy(
  target: Target,
  dir: string,
  opts: { model: string; version: string; wait?: boolean; timeout?: number; check?: boolean; quiet?: boolean; checked?: ReturnType<typeof checkModelFolder> },
): Promise<VersionRecord | undefined> {
  const { files, notes } = opts.checked ?? checkModelFolder(dir, { model: opts.model, version: opts.version, location: target.region, validate: opts.check !== false });
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(`${line}\n`);
  };
  notes.forEach((n) => say(`note: ${n}`));
  const bucketName = target.bucket('models');
  const existing = await target.firestore().collection('models').doc(opts.model).collection('versions').doc(opts.version).get();
  if (existing.exists) {
    const state = (existing.data() as VersionRecord).state;
    throw new CommandFailed(`${opts.model}/${opts.version} already exists (${state}): a version deploys once; upload it as a new version`);
  }
  const prefix = `${opts.model}/${opts.version}/`;
  say(`uploading ${files.length} files to gs://${bucketName}/${prefix}`);
  await uploadFiles(target.storage().bucket(bucketName), { files, destination: (f) => prefix + f.relative, after: [{ name: prefix + MARKER, body: '' }] }, { label: 'upload', quiet: opts.quiet });
  if (!opts.wait) {
    say(`uploaded; follow it with \`dropship status ${opts.model}\``);
    return undefined;
  }
  const started = Date.now();
  const record = await followVersion(target.firestore(), opts.model, opts.version, { timeoutMs: (opts.timeout ?? 3600) * 1000, quiet: opts.quiet });
  say(
    `${opts.model}/${opts.version} DEPLOYED in ${((Date.now() - started) / 1000).toFixed(1)} s: endpoint ${record.endpoint ?? '?'}, ` +
      `deployed model ${record.deployedModelId ?? '?'}, ${record.trafficPercent ?? '?'}% of traffic`,
  );
  return record;
}
