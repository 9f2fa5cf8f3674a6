/**
 * Which machine types Vertex AI online prediction runs, and which accelerators (type and count)
 * each takes, so that a deploy.json Vertex AI would refuse fails VALIDATING with a reason
 * instead of failing DeployModel 15 minutes later.
 *
 * Source: "Configure compute resources for prediction"
 * (cloud.google.com/vertex-ai/docs/predictions/configure-compute, machine types and GPUs
 * sections) and Compute Engine's "GPU machine types" (cloud.google.com/compute/docs/gpus), as
 * read on 2026-12-01. Accelerator-optimized machines (a2, a3, g2) come with a fixed number of
 * GPUs of one type; n1 machines take T4, P4, P100 or V100 in counts 1, 2 or 4 (V100 also 8);
 * the other families take none. K80 reached end of support and is refused.
 *
 * Newer API docs describe co-scheduling several replicas on one accelerator-optimized VM by
 * asking for fewer GPUs than it has; dropship holds to the table's fixed counts, which every
 * region accepts.
 */
export const MACHINE_RULES_CHECKED_ON = '2026-12-01';

/** Families that take no accelerator at all (Vertex AI prediction's CPU machine families). */
const CPU_FAMILIES = ['e2', 'n2', 'n2d', 'c2', 'c2d', 'c3', 'm1'] as const;

const N1_GPUS: Record<string, readonly number[]> = {
  NVIDIA_TESLA_T4: [1, 2, 4],
  NVIDIA_TESLA_P4: [1, 2, 4],
  NVIDIA_TESLA_P100: [1, 2, 4],
  NVIDIA_TESLA_V100: [1, 2, 4, 8],
};

/** Accelerator-optimized machine types: the accelerator they come with and how many. */
const FIXED_GPU_MACHINES: Record<string, { type: string; count: number }> = {
  'a2-highgpu-1g': { type: 'NVIDIA_TESLA_A100', count: 1 },
  'a2-highgpu-2g': { type: 'NVIDIA_TESLA_A100', count: 2 },
  'a2-highgpu-4g': { type: 'NVIDIA_TESLA_A100', count: 4 },
  'a2-highgpu-8g': { type: 'NVIDIA_TESLA_A100', count: 8 },
  'a2-megagpu-16g': { type: 'NVIDIA_TESLA_A100', count: 16 },
  'a2-ultragpu-1g': { type: 'NVIDIA_A100_80GB', count: 1 },
  'a2-ultragpu-2g': { type: 'NVIDIA_A100_80GB', count: 2 },
  'a2-ultragpu-4g': { type: 'NVIDIA_A100_80GB', count: 4 },
  'a2-ultragpu-8g': { type: 'NVIDIA_A100_80GB', count: 8 },
  'a3-highgpu-1g': { type: 'NVIDIA_H100_80GB', count: 1 },
  'a3-highgpu-2g': { type: 'NVIDIA_H100_80GB', count: 2 },
  'a3-highgpu-4g': { type: 'NVIDIA_H100_80GB', count: 4 },
  'a3-highgpu-8g': { type: 'NVIDIA_H100_80GB', count: 8 },
  'a3-megagpu-8g': { type: 'NVIDIA_H100_MEGA_80GB', count: 8 },
  'g2-standard-4': { type: 'NVIDIA_L4', count: 1 },
  'g2-standard-8': { type: 'NVIDIA_L4', count: 1 },
  'g2-standard-12': { type: 'NVIDIA_L4', count: 1 },
  'g2-standard-16': { type: 'NVIDIA_L4', count: 1 },
  'g2-standard-24': { type: 'NVIDIA_L4', count: 2 },
  'g2-standard-32': { type: 'NVIDIA_L4', count: 1 },
  'g2-standard-48': { type: 'NVIDIA_L4', count: 4 },
  'g2-standard-96': { type: 'NVIDIA_L4', count: 8 },
};

const ACCELERATOR_FAMILIES = ['n1', 'a2', 'a3', 'g2'];
const KNOWN_FAMILIES = [...ACCELERATOR_FAMILIES, ...CPU_FAMILIES];

export interface MachineRequest {
  machineType: string;
  acceleratorType?: string | undefined;
  /** as deploy.json gives it; Vertex AI's request defaults it to 1 when a type is named */
  acceleratorCount?: number | undefined;
}

const SOURCE = `(Vertex AI "Configure compute resources for prediction", checked ${MACHINE_RULES_CHECKED_ON})`;

/** One sentence per way the request breaks Vertex AI's rules; empty when Vertex AI accepts it. */
export function checkMachine(req: MachineRequest): string[] {
  const family = req.machineType.split('-')[0] ?? '';
  const type = req.acceleratorType;
  const count = type === undefined ? undefined : (req.acceleratorCount ?? 1);
  if (!KNOWN_FAMILIES.includes(family)) {
    return [`machineType ${req.machineType}: the ${family} family is not one Vertex AI prediction runs on; use one of ${KNOWN_FAMILIES.join(', ')} ${SOURCE}`];
  }
  if ((CPU_FAMILIES as readonly string[]).includes(family)) {
    return type === undefined ? [] : [`machineType ${req.machineType} takes no accelerator: drop acceleratorType ${type}, or use an n1, a2, a3 or g2 machine ${SOURCE}`];
  }
  if (family === 'n1') {
    if (type === undefined) return [];
    const counts = N1_GPUS[type];
    if (!counts) {
      return [`acceleratorType ${type} does not attach to n1 machines: use one of ${Object.keys(N1_GPUS).join(', ')}, or an a2/a3/g2 machine for A100, H100 or L4 ${SOURCE}`];
    }
    return counts.includes(count!) ? [] : [`acceleratorCount ${count} of ${type} on ${req.machineType}: it takes ${counts.join(', ')} ${SOURCE}`];
  }
  const fixed = FIXED_GPU_MACHINES[req.machineType];
  if (!fixed) {
    const sizes = Object.keys(FIXED_GPU_MACHINES).filter((m) => m.startsWith(`${family}-`));
    return [`machineType ${req.machineType} is not a Vertex AI prediction machine type; the ${family} ones are ${sizes.join(', ')} ${SOURCE}`];
  }
  const want = `set acceleratorType ${fixed.type} and acceleratorCount ${fixed.count}`;
  if (type === undefined) return [`machineType ${req.machineType} comes with ${fixed.count} ${fixed.type}: ${want} ${SOURCE}`];
  if (type !== fixed.type) return [`acceleratorType ${type} does not go with ${req.machineType}, which comes with ${fixed.type}: ${want} ${SOURCE}`];
  if (count !== fixed.count) return [`acceleratorCount ${count} on ${req.machineType}: it comes with exactly ${fixed.count} ${fixed.type} (${want}) ${SOURCE}`];
  return [];
}
