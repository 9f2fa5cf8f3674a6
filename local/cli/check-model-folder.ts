import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decideCompleteness, MARKER } from '#shared/deployment/core/completeness';
import { MODEL_NAME } from '#shared/deployment/core/object-path';
import { validateVersion } from '#shared/deployment/validate-version';
import { CommandFailed, UsageError } from './cli-errors';
import { listFiles, type LocalFile } from './list-files';

export { MODEL_NAME };
export const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * What `deploy` checks before uploading anything, with the same rules the model-drop function
 * applies after: the folder is a whole SavedModel, its signature matches the contract, and
 * deploy.json is valid. Catching it here saves an upload and says why at once.
 */
export function checkModelFolder(
  dir: string,
  opts: { model: string; version: string; location: string; validate: boolean },
): {
  files: LocalFile[];
  notes: string[];
} {
  if (!MODEL_NAME.test(opts.model)) {
    throw new UsageError(`--model '${opts.model}' is not a model name: lowercase letters, digits and hyphens, starting with a letter`);
  }
  if (!VERSION_NAME.test(opts.version)) {
    throw new UsageError(`--version '${opts.version}' is not a version folder name: letters, digits, '.', '_' and '-'`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`no such folder: ${dir}`);
  // A marker in the source folder would be uploaded before the files; we write our own, last.
  const files = listFiles(dir).filter((f) => f.relative !== MARKER);
  const completeness = decideCompleteness(
    files.map((f) => f.relative),
    { requireMarker: false },
  );
  if (!completeness.complete) {
    throw new CommandFailed(`${dir} is not a whole SavedModel: missing ${completeness.missing.join(', ')}`);
  }
  const notes: string[] = [];
  if (!opts.validate) return { files, notes };
  const deployJsonPath = join(dir, 'deploy.json');
  const result = validateVersion({
    savedModel: readFileSync(join(dir, 'saved_model.pb')),
    deployJson: existsSync(deployJsonPath) ? readFileSync(deployJsonPath, 'utf8') : undefined,
    location: opts.location,
    now: new Date(),
    // model-drop uses the deployment's own TF_SERVING_IMAGE; any pinned image stands for it here
    tfServingImage: 'deployment/tensorflow/serving:pinned',
  });
  if (!result.ok) throw new CommandFailed(`${dir} would fail to deploy: ${result.reason}`);
  notes.push(...result.notes);
  if (!files.some((f) => f.relative === 'model.onnx')) {
    notes.push('no model.onnx beside the SavedModel: the local Vertex AI emulator cannot serve this version (Google Cloud can)');
  }
  return { files, notes };
}
