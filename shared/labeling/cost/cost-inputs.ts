import type { CostInputs } from './cost-model';

/** The configuration fields the cost model reads (intake and `dropship cost` alike). */
export interface CostConfig {
  ONLINE_MACHINE_TYPE: string;
  ONLINE_REPLICAS: number;
  ONLINE_IMAGES_PER_SECOND_PER_REPLICA: number;
  BATCH_MACHINE_TYPE: string;
  BATCH_MAX_NODES: number;
  BATCH_IMAGES_PER_SECOND_PER_NODE: number;
  BATCH_STARTUP_MINUTES: number;
}

export function costInputs(cfg: CostConfig, images: number, deadlineMs: number | undefined): CostInputs {
  return {
    images,
    online: { machineType: cfg.ONLINE_MACHINE_TYPE, replicas: cfg.ONLINE_REPLICAS, imagesPerSecondPerReplica: cfg.ONLINE_IMAGES_PER_SECOND_PER_REPLICA },
    batch: { machineType: cfg.BATCH_MACHINE_TYPE, nodes: cfg.BATCH_MAX_NODES, imagesPerSecondPerNode: cfg.BATCH_IMAGES_PER_SECOND_PER_NODE, startupMinutes: cfg.BATCH_STARTUP_MINUTES },
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  };
}
