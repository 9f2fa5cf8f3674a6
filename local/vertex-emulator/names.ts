import { invalidArgument } from './api-error';

/** Resource names as Vertex AI spells them: projects/P/locations/L/<collection>/ID[@version|@alias]. */
export interface LocationName {
  project: string;
  location: string;
}

export interface ModelName extends LocationName {
  modelId: string;
  /** what followed '@': a version id ("2") or an alias ("default", "canary") */
  versionSpec?: string;
}

export interface EndpointName extends LocationName {
  endpointId: string;
}

const SEGMENT = '([^/@]+)';

export function parseLocation(parent: string): LocationName {
  const m = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}$`).exec(parent ?? '');
  if (!m) throw invalidArgument(`parent must look like projects/{project}/locations/{location}, got "${parent ?? ''}".`);
  return { project: m[1], location: m[2] };
}

export function parseModelName(name: string): ModelName {
  const m = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}/models/${SEGMENT}(?:@([^/@]+))?$`).exec(name ?? '');
  if (!m) {
    throw invalidArgument(`model name must look like projects/{project}/locations/{location}/models/{model}[@{version or alias}], got "${name ?? ''}".`);
  }
  return { project: m[1], location: m[2], modelId: m[3], ...(m[4] ? { versionSpec: m[4] } : {}) };
}

export function parseEndpointName(name: string): EndpointName {
  const m = new RegExp(`^projects/${SEGMENT}/locations/${SEGMENT}/endpoints/${SEGMENT}$`).exec(name ?? '');
  if (!m) throw invalidArgument(`endpoint name must look like projects/{project}/locations/{location}/endpoints/{endpoint}, got "${name ?? ''}".`);
  return { project: m[1], location: m[2], endpointId: m[3] };
}

export const locationPath = (l: LocationName) => `projects/${l.project}/locations/${l.location}`;
export const modelPath = (l: LocationName, modelId: string) => `${locationPath(l)}/models/${modelId}`;
export const endpointPath = (l: LocationName, endpointId: string) => `${locationPath(l)}/endpoints/${endpointId}`;

/** Vertex AI's own ids are long decimal numbers; ours look the same so nobody relies on their shape. */
export function numericId(random: () => number = Math.random): string {
  let id = String(1 + Math.floor(random() * 9));
  for (let i = 0; i < 18; i++) id += String(Math.floor(random() * 10));
  return id;
}

/** UploadModelRequest.modelId: <=63 chars of [a-z0-9_-], not starting with a digit or a hyphen. */
export function checkModelId(id: string): void {
  if (!/^[a-z_][a-z0-9_-]{0,62}$/.test(id)) {
    throw invalidArgument(`modelId "${id}" is invalid: use at most 63 characters of [a-z0-9_-], not starting with a digit or a hyphen.`);
  }
}

/** Version aliases: [a-z][a-zA-Z0-9-]{0,126}[a-z0-9], so they can never be mistaken for a version id. */
export function checkAlias(alias: string): void {
  if (!/^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/.test(alias)) {
    throw invalidArgument(`version alias "${alias}" is invalid: it must match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9].`);
  }
}
