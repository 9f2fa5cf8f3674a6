import type { CheckFigures, CheckName } from './canary-decision';
import type { HistoryEntry, VersionState } from './state-machine';

/** The numbers a rollout decision was made on: in the version's history, on model-events, in `dropship status`. */
export interface RolloutDecision {
  outcome: 'promote' | 'rollback' | 'hold-passed' | 'hold-failed';
  /** which stage decided: the golden gate or the live analysis */
  stage: 'golden' | 'analysis';
  /** the failed checks (goldenAccuracy, or the analysis' errorRate / latencyP95 / confidence / labelShift), comma-separated; empty when it passed */
  failed: string;
  summary: string;
  at: string;
  golden?: { images: number; canaryAccuracy: number; stableAccuracy: number | null; calls: number };
  analysis?: { canaryResults: number; stableResults: number; minutes: number; checks: Partial<Record<CheckName, CheckFigures>> };
}

/** A canary's rollout (deploy.json `rollout`), while CANARY_ANALYSIS and after. */
export interface RolloutState {
  phase: 'golden' | 'analysis' | 'decided';
  startedAt: string;
  /** version -> deployedModelId of the versions serving beside the canary when it began */
  stable: Record<string, string>;
  golden?: RolloutDecision['golden'] & { pass: boolean; reason: string };
  analysisStartedAt?: string;
  /** the last tick's figures, for `dropship status` */
  live?: { at: string; verdict: 'wait' | 'pass' | 'fail'; waitingFor?: string; summary: string; canaryResults: number; stableResults: number; checks: Partial<Record<CheckName, CheckFigures>> };
  decision?: RolloutDecision;
}

/** A Vertex long-running operation we started and someone polls later, by name. */
export interface PendingOperation {
  kind: 'upload' | 'deploy' | 'undeploy';
  name: string;
  startedAt: string;
}

/** models/{model}/versions/{version} */
export interface VersionRecord {
  model: string;
  version: string;
  state: VersionState;
  history: HistoryEntry[];
  /** gs://bucket/model/version/ : the folder that holds saved_model.pb */
  artifactUri: string;
  /** idempotency key of the event that claimed the version: bucket/name#generation */
  claimedBy: string;
  savedModelGeneration?: string;
  versionAlias: string;
  /** `replace` or `canary:<p>` */
  traffic: string;
  /** why this deploy happens: a new version, or a rollback to this version */
  deployPurpose?: 'release' | 'rollback';
  /** the state a deployed version ends in once its pending undeploy finishes */
  retireAs?: 'SUPERSEDED' | 'UNDEPLOYED';
  /** the canary's golden gate and live analysis (deploy.json rollout) */
  rollout?: RolloutState;
  /** deploy.json as parsed (defaults applied) */
  spec?: Record<string, unknown>;
  containerImageUri?: string;
  /** prebuilt (Vertex AI's TF image), tf-serving (TensorFlow Serving as a custom container) or custom (deploy.json's image) */
  serving?: 'prebuilt' | 'tf-serving' | 'custom';
  /** when Vertex AI stops offering the serving image (YYYY-MM-DD), for a prebuilt one */
  imageAvailableUntil?: string;
  tensorflowVersion?: string;
  vertexModel?: string;
  vertexModelVersionId?: string;
  endpoint?: string;
  deployedModelId?: string;
  trafficPercent?: number;
  /** the traffic split (deployedModelId -> percent, "0" = this one) to deploy with */
  deployTrafficSplit?: Record<string, number>;
  operation?: PendingOperation | null;
  error?: string | null;
  lease?: { holder: string; until: string } | null;
  createdAt: string;
  updatedAt: string;
}

/** models/{model} */
export interface ModelRecord {
  model: string;
  /** projects/.../models/ID once the first version is registered */
  vertexModel?: string;
  /** projects/.../endpoints/ID once created */
  endpoint?: string;
  /** version -> percent now, and before the last traffic change (what rollback restores) */
  traffic?: Record<string, number>;
  previousTraffic?: Record<string, number>;
  endpointLease?: { holder: string; until: string } | null;
  updatedAt: string;
}

export function versionKey(model: string, version: string): string {
  return `${model}/${version}`;
}
