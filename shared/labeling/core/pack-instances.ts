/**
 * Request size accounting for Vertex AI Predict: instances travel as
 * {"string_input": {"b64": "..."}}, and base64 makes raw bytes about 4/3 larger.
 */
export const INSTANCE_OVERHEAD_BYTES = '{"string_input":{"b64":""}},'.length;
export const REQUEST_OVERHEAD_BYTES = '{"instances":[]}'.length + 256;

export function instanceRequestBytes(rawBytes: number): number {
  return 4 * Math.ceil(rawBytes / 3) + INSTANCE_OVERHEAD_BYTES;
}

export interface PackLimits {
  /** request payload limit (Vertex AI: 1.5 MB), including JSON overhead */
  maxRequestBytes: number;
  maxInstances: number;
}

/**
 * Splits items, in order, into the fewest consecutive groups that each fit the request limits.
 * An item too big for any request gets a group of its own; the caller rejects it.
 */
export function packInstances<T>(items: readonly T[], sizeOf: (item: T) => number, limits: PackLimits): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = REQUEST_OVERHEAD_BYTES;
  for (const item of items) {
    const size = instanceRequestBytes(sizeOf(item));
    if (current.length > 0 && (current.length >= limits.maxInstances || bytes + size > limits.maxRequestBytes)) {
      groups.push(current);
      current = [];
      bytes = REQUEST_OVERHEAD_BYTES;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export function fitsOneRequest(rawBytes: number, limits: PackLimits): boolean {
  return REQUEST_OVERHEAD_BYTES + instanceRequestBytes(rawBytes) <= limits.maxRequestBytes;
}
