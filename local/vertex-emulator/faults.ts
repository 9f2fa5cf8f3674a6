import { status } from '@grpc/grpc-js';
import { z } from 'zod';
import { SeededRandom } from '#local/model-build/seeded-random';
import { ApiError } from './api-error';

/** The long-running operations the emulator runs. */
export type OperationKind = 'uploadModel' | 'deleteModel' | 'createEndpoint' | 'deleteEndpoint' | 'deployModel' | 'undeployModel' | 'mutateDeployedModel' | 'updateEndpoint';

export interface VertexFaults {
  /** added to every Predict call */
  predictLatencyMs?: number;
  /** 0..1 of Predict calls answered RESOURCE_EXHAUSTED (429) or UNAVAILABLE (503), half each */
  predictErrorRate?: number;
  /** same for ModelService / EndpointService calls (not for polling operations) */
  managementErrorRate?: number;
  /** added to every ModelService / EndpointService call */
  managementLatencyMs?: number;
  /** how long operations of a kind take, overriding the emulator's lroDelayMs */
  operationDelayMs?: Partial<Record<OperationKind, number>>;
  /** operations of a kind finish with this error message (code INTERNAL) until the entry is removed */
  operationFailures?: Partial<Record<OperationKind, string>>;
  /**
   * per deployed model id (a bad canary): its predict calls take `latencyFactor` times as long,
   * and `errorRate` (0..1) of them fail with INTERNAL naming the deployed model, as a failing
   * container's 500 would
   */
  deployedModels?: Record<string, DeployedModelFaults>;
  /**
   * Not a fault: seeds the draws that pick, per Predict call, the deployed model the traffic
   * split sends it to, and whether that deployed model's `errorRate` fails it (absent: unseeded).
   * Setting the faults again with a seed restarts the sequence, so a test that sets it gets the
   * same draws every run (in the same order of calls).
   */
  trafficSeed?: number;
}

export interface DeployedModelFaults {
  latencyFactor?: number;
  errorRate?: number;
}

export const RATE_EXCEEDED = 'Rate of traffic exceeds capacity. Ramp your traffic up more slowly.';

/** Decides, per call, the injected latency and whether the call fails instead of running. */
export class FaultInjector {
  private faults: VertexFaults;
  private seeded?: () => number;

  constructor(
    faults: VertexFaults = {},
    private readonly random: () => number = Math.random,
  ) {
    this.faults = {};
    this.set(faults);
  }

  set(faults: VertexFaults): void {
    this.faults = { ...faults };
    const gen = faults.trafficSeed === undefined ? undefined : new SeededRandom(faults.trafficSeed);
    this.seeded = gen && (() => gen.next());
  }

  /** uniform in [0, 1): the traffic split's draw for one Predict call (seeded by `trafficSeed`) */
  trafficRandom(): number {
    return (this.seeded ?? Math.random)();
  }

  get(): VertexFaults {
    return { ...this.faults };
  }

  /** Waits the injected latency, then throws the injected error if this call draws one. */
  async apply(surface: 'predict' | 'management'): Promise<void> {
    const latency = surface === 'predict' ? this.faults.predictLatencyMs : this.faults.managementLatencyMs;
    if (latency && latency > 0) await new Promise((r) => setTimeout(r, latency));
    const rate = surface === 'predict' ? this.faults.predictErrorRate : this.faults.managementErrorRate;
    if (rate && rate > 0 && this.random() < rate) {
      throw this.random() < 0.5
        ? new ApiError(status.RESOURCE_EXHAUSTED, RATE_EXCEEDED)
        : new ApiError(status.UNAVAILABLE, 'The service is currently unavailable (injected by the Vertex AI emulator).');
    }
  }

  operationDelay(kind: OperationKind, fallbackMs: number): number {
    return this.faults.operationDelayMs?.[kind] ?? fallbackMs;
  }

  operationFailure(kind: OperationKind): string | undefined {
    return this.faults.operationFailures?.[kind];
  }

  /** Runs one deployed model's prediction with its injected faults (startedAt: when the call arrived). */
  async deployed<T>(deployedModelId: string, startedAt: number, run: () => Promise<T>): Promise<T> {
    const f = this.faults.deployedModels?.[deployedModelId];
    if (f?.errorRate && (this.seeded ?? this.random)() < f.errorRate) {
      throw new ApiError(status.INTERNAL, `Deployed model ${deployedModelId} failed to serve the prediction (injected by the Vertex AI emulator).`);
    }
    const out = await run();
    if (f?.latencyFactor && f.latencyFactor > 1) await new Promise((r) => setTimeout(r, (Date.now() - startedAt) * (f.latencyFactor! - 1)));
    return out;
  }
}

const OPERATION_KINDS = ['uploadModel', 'deleteModel', 'createEndpoint', 'deleteEndpoint', 'deployModel', 'undeployModel', 'mutateDeployedModel', 'updateEndpoint'] as const;
const perKind = <T extends z.ZodType>(v: T) => z.partialRecord(z.enum(OPERATION_KINDS), v);

const faultsSchema = z.strictObject({
  predictLatencyMs: z.number().min(0).optional(),
  predictErrorRate: z.number().min(0).max(1).optional(),
  managementErrorRate: z.number().min(0).max(1).optional(),
  managementLatencyMs: z.number().min(0).optional(),
  operationDelayMs: perKind(z.number().min(0)).optional(),
  operationFailures: perKind(z.string().min(1)).optional(),
  deployedModels: z.record(z.string().min(1), z.strictObject({ latencyFactor: z.number().min(1).max(1000).optional(), errorRate: z.number().min(0).max(1).optional() })).optional(),
  trafficSeed: z.number().int().min(0).max(0xffffffff).optional(),
});

/** Faults as they arrive over HTTP, checked before they replace the current ones. */
export function parseFaults(body: unknown): VertexFaults {
  const r = faultsSchema.safeParse(body);
  if (!r.success) throw new Error(z.prettifyError(r.error));
  return r.data;
}
