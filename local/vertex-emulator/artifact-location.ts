import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { failedPrecondition, invalidArgument } from './api-error';

/**
 * Where a model's artifactUri lives on this machine. gs://bucket/path maps to gcsRoot/bucket/path
 * (the local stack points gcsRoot at the Storage emulator's data folder); a file:// URI or a
 * path is taken as is.
 */
export function resolveArtifactDir(artifactUri: string, gcsRoot: string | undefined): string {
  if (!artifactUri) throw invalidArgument('model.artifactUri is empty: point it at the folder that holds saved_model.pb (and model.onnx for this emulator).');
  const gs = /^gs:\/\/([^/]+)\/?(.*)$/.exec(artifactUri);
  if (gs) {
    if (!gcsRoot) {
      throw failedPrecondition(`artifactUri ${artifactUri} is in Cloud Storage, but this emulator was started without a gcsRoot (--gcs-root DIR) to find buckets in.`);
    }
    return join(gcsRoot, gs[1], gs[2]);
  }
  if (artifactUri.startsWith('file://')) return new URL(artifactUri).pathname;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(artifactUri)) throw invalidArgument(`artifactUri ${artifactUri}: only gs:// URIs and local folders are supported.`);
  return isAbsolute(artifactUri) ? artifactUri : resolve(artifactUri);
}

/**
 * The folder to serve from: the artifact folder itself, or, laid out for TensorFlow Serving
 * (numbered version folders under a base path, as model-drop copies a version for
 * `serving: tf-serving`), its highest-numbered version, which is what TF Serving loads.
 */
export function servedFolder(dir: string): string {
  if (existsSync(join(dir, 'saved_model.pb')) || existsSync(join(dir, 'model.onnx'))) return dir;
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
      .map((e) => e.name);
  } catch {
    return dir;
  }
  if (names.length === 0) return dir;
  return join(dir, names.sort((a, b) => Number(b) - Number(a))[0]!);
}
