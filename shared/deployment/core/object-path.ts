/**
 * Where an object in the models bucket belongs: `<model>/<version>/<file...>`.
 * The model name becomes the Vertex model id and endpoint id, so it must fit their rules.
 */
export type ObjectPath = { ok: true; model: string; version: string; file: string } | { ok: false; reason: string };

/** lowercase, digits, hyphens; starts with a letter; <= 63 chars (Vertex resource ids) */
export const MODEL_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function parseObjectPath(name: string): ObjectPath {
  const parts = name.split('/');
  if (parts.length < 3 || parts.some((p) => p === '')) {
    return { ok: false, reason: `'${name}' is not inside a version folder: expected <model>/<version>/<file>` };
  }
  const [model, version, ...rest] = parts as [string, string, ...string[]];
  if (!MODEL_NAME.test(model) || model.endsWith('-')) {
    return {
      ok: false,
      reason: `model folder '${model}' is not a valid model name: use lowercase letters, digits and hyphens, start with a letter, end with a letter or digit, at most 63 characters`,
    };
  }
  if (version.length > 128 || version.startsWith('.')) {
    return { ok: false, reason: `version folder '${version}' is not usable: at most 128 characters, not starting with '.'` };
  }
  return { ok: true, model, version, file: rest.join('/') };
}

export function versionPrefix(model: string, version: string): string {
  return `${model}/${version}/`;
}
