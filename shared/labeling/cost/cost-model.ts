import type { PriceTable } from './price-table';

/**
 * How much a labeling job costs on each route, and which route `auto` takes. Pure: every
 * input (prices, measured throughput, the job's size and deadline) is passed in.
 *
 * Online: the job keeps the endpoint's replicas busy for images / (rate per replica x
 * replicas); those replica-hours are what it costs (the endpoint's idle hours are paid for
 * whether or not the job runs, so they are not the job's). Batch: Vertex AI starts its own
 * nodes (start-up time, billed) and bills node-hours until the job ends.
 */
export interface MachineShape {
  machineType: string;
  acceleratorType?: string;
  acceleratorCount?: number;
}

export interface CostInputs {
  images: number;
  online: MachineShape & {
    replicas: number;
    /** images a second one replica labels, measured (bench / dropship loadtest) */
    imagesPerSecondPerReplica: number;
  };
  batch: MachineShape & {
    nodes: number;
    imagesPerSecondPerNode: number;
    /** provisioning and model loading before the first prediction, billed */
    startupMinutes: number;
  };
  /** the job must finish within this many ms, if it says so */
  deadlineMs?: number;
}

export interface RouteEstimate {
  route: 'online' | 'batch';
  hours: number;
  nodeHours: number;
  usd: number;
  meetsDeadline: boolean;
}

export interface CostEstimate {
  priceTableDate: string;
  images: number;
  online: RouteEstimate;
  batch: RouteEstimate;
}

export interface RouteChoice {
  route: 'online' | 'batch';
  reason: string;
  estimate: CostEstimate;
}

export function nodeHourPrice(table: PriceTable, m: MachineShape): number {
  const machine = table.machines[m.machineType];
  if (machine === undefined) throw new Error(`no price for machine type ${m.machineType} in the price table of ${table.date}; known: ${Object.keys(table.machines).join(', ')}`);
  if (!m.acceleratorType || !m.acceleratorCount) return machine;
  const acc = table.accelerators[m.acceleratorType];
  if (acc === undefined) throw new Error(`no price for accelerator ${m.acceleratorType} in the price table of ${table.date}`);
  return machine + acc * m.acceleratorCount;
}

export function estimateCost(table: PriceTable, i: CostInputs): CostEstimate {
  if (!(i.images >= 0)) throw new Error('images must be a number >= 0');
  if (!(i.online.imagesPerSecondPerReplica > 0) || !(i.batch.imagesPerSecondPerNode > 0)) throw new Error('throughputs must be > 0 images/s');
  const onlineHours = i.images / (i.online.imagesPerSecondPerReplica * i.online.replicas) / 3600;
  const onlineNodeHours = onlineHours * i.online.replicas;
  const batchHours = i.images === 0 ? 0 : i.batch.startupMinutes / 60 + i.images / (i.batch.imagesPerSecondPerNode * i.batch.nodes) / 3600;
  const batchNodeHours = batchHours * i.batch.nodes;
  const meets = (h: number) => i.deadlineMs === undefined || h * 3_600_000 <= i.deadlineMs;
  return {
    priceTableDate: table.date,
    images: i.images,
    online: { route: 'online', hours: onlineHours, nodeHours: onlineNodeHours, usd: onlineNodeHours * nodeHourPrice(table, i.online), meetsDeadline: meets(onlineHours) },
    batch: { route: 'batch', hours: batchHours, nodeHours: batchNodeHours, usd: batchNodeHours * nodeHourPrice(table, i.batch), meetsDeadline: meets(batchHours) },
  };
}

/** `auto`: the cheaper route that meets the deadline; if neither does, the faster one. Ties go online (no start-up wait). */
export function chooseRoute(table: PriceTable, i: CostInputs): RouteChoice {
  const estimate = estimateCost(table, i);
  const { online, batch } = estimate;
  const money = (r: RouteEstimate) => `$${r.usd.toFixed(4)} in ${formatHours(r.hours)}`;
  const both = `online ${money(online)}, batch ${money(batch)} (prices of ${table.date})`;
  const fitting = [online, batch].filter((r) => r.meetsDeadline);
  if (fitting.length === 0) {
    const faster = batch.hours < online.hours ? batch : online;
    return { route: faster.route, reason: `neither route meets the deadline; ${faster.route} is faster: ${both}`, estimate };
  }
  if (fitting.length === 1) {
    const only = fitting[0]!;
    return { route: only.route, reason: `only ${only.route} meets the deadline: ${both}`, estimate };
  }
  const cheaper = batch.usd < online.usd ? batch : online;
  return { route: cheaper.route, reason: `${cheaper.route} is cheaper${i.deadlineMs !== undefined ? ' and both meet the deadline' : ''}: ${both}`, estimate };
}

/** "90m", "2h", "1.5h", "1d" -> ms; undefined for anything else. */
export function parseDeadline(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

export function formatHours(h: number): string {
  if (h < 1 / 60) return `${Math.round(h * 3600)} s`;
  if (h < 1) return `${(h * 60).toFixed(1)} min`;
  return `${h.toFixed(2)} h`;
}

/**
 * Throughputs used when nothing measured is passed in: round placeholders, NOT measurements.
 * Pass the rate `dropship loadtest` or `npm run bench` measured for your model (dropship cost
 * --online-rate / --batch-rate); the start-up is a guess at provisioning plus model loading.
 */
export const DEFAULT_THROUGHPUT = { onlineImagesPerSecondPerReplica: 50, batchImagesPerSecondPerNode: 50, batchStartupMinutes: 15 };
