import { z } from 'zod';
import type { ModelEvent } from '#shared/deployment/ports';
import { CHECKS } from '#shared/deployment/core/canary-decision';
import { VERSION_STATES } from '#shared/deployment/core/state-machine';
import { labelResultSchema, type LabelResult } from '#shared/labeling/result';

/**
 * What dropship publishes for subscribers, defined once: the JSON body and the attributes of
 * every message on `prediction-results` (results and job-completed announcements) and on
 * `model-events`. terraform/scripts/generate-message-schemas.ts turns the bodies into the
 * Pub/Sub schemas terraform puts on the topics (terraform/schemas/*.proto); the attribute
 * schemas are what subscription filters can rely on (Pub/Sub schemas cover the body only).
 *
 * Versioning rule (docs/subscribing.md): a field is only ever added, at the end of its object,
 * nullable or optional; nothing is renamed, retyped or removed. A change that cannot follow the
 * rule is a new message type (a new `type` value) or a new topic.
 */

const text = z.string();
/**
 * The result document plus `type`, first (field numbers follow declaration order). `id` says
 * what it is in a message: the same id as the resultId attribute.
 */
export const resultMessageSchema = z
  .strictObject({
    type: z.literal('result').describe('"result" for one image\'s outcome'),
    ...labelResultSchema.shape,
    id: labelResultSchema.shape.id.describe('the result id: stable per (job, bucket, object, generation); the same id as the resultId attribute'),
  })
  .describe(labelResultSchema.description!);

export const jobCompletedMessageSchema = z
  .strictObject({
    type: z.literal('job-completed').describe('"job-completed" once a manifest job has a result for every image'),
    job: text.describe('the job'),
    model: text.describe('the dropship model the job used'),
    total: z.number().int().describe('images in the manifest'),
    counts: z
      .strictObject({
        ok: z.number().int().describe('OK results'),
        error: z.number().int().describe('ERROR results'),
      })
      .describe('results by status, as in jobs/{job}.counts; ok + error == total'),
  })
  .describe('A manifest job is complete');

/** One schema per topic: a topic carries one Pub/Sub schema, so results and job-completed share one. */
export const predictionResultsMessageSchema = z.discriminatedUnion('type', [resultMessageSchema, jobCompletedMessageSchema]);

const num = z.number().nullable();
const checkSchema = z
  .strictObject({
    metric: z.enum(CHECKS).describe('the check'),
    outcome: z.enum(['pass', 'fail', 'insufficient']).describe('pass, fail, or insufficient (too little data for this check)'),
    canary: num.describe("the canary's figure (rate, ms, mean); null when not per arm"),
    stable: num.describe("stable's figure"),
    value: num.describe('the compared quantity: difference, ratio or distance'),
    threshold: z.number().describe("the policy's limit for value"),
    pValue: z.number().optional().describe("the test's p-value, for errorRate and labelShift"),
    test: text.describe('the test, in words'),
  })
  .describe('One canary check');
const rolloutDecisionSchema = z
  .strictObject({
    outcome: z.enum(['promote', 'rollback', 'hold-passed', 'hold-failed']).describe('what the rollout does'),
    stage: z.enum(['golden', 'analysis']).describe('golden (the golden-set gate) or analysis (live results)'),
    failed: text.describe('the failed checks, comma-separated; empty when it passed'),
    summary: text.describe('the decision and its numbers in one line'),
    at: text.describe('when it was decided (RFC 3339)'),
    golden: z
      .strictObject({
        images: z.number().int().describe('golden images'),
        canaryAccuracy: z.number().describe("the canary's accuracy on them"),
        stableAccuracy: num.describe("stable's, on the images it answered"),
        calls: z.number().int().describe('predict calls the gate sent'),
      })
      .optional()
      .describe("the golden gate's figures"),
    analysis: z
      .strictObject({
        canaryResults: z.number().int().describe('canary results in the window'),
        stableResults: z.number().int().describe('stable results in the window'),
        minutes: z.number().describe('minutes of analysis'),
        checks: z
          .strictObject({ errorRate: checkSchema.optional(), latencyP95: checkSchema.optional(), confidence: checkSchema.optional(), labelShift: checkSchema.optional() })
          .describe("each check's figures"),
      })
      .optional()
      .describe("the live analysis' figures"),
  })
  .describe('A rollout decision with the numbers it was made on');

export const modelEventMessageSchema = z
  .strictObject({
    model: text.describe('the model (the first folder under the models bucket)'),
    version: text.describe('the version (the folder under the model)'),
    from: z.enum(VERSION_STATES).nullable().describe('the state before; null for the first'),
    state: z.enum(VERSION_STATES).describe('the state now'),
    at: text.describe('when it changed (RFC 3339)'),
    reason: text.optional().describe('why, for FAILED, SUPERSEDED, UNDEPLOYED and rollout decisions'),
    vertexModel: text.optional().describe('the Vertex AI model resource'),
    vertexModelVersionId: text.optional().describe('the Vertex AI model version'),
    endpoint: text.optional().describe('the Vertex AI endpoint resource'),
    deployedModelId: text.optional().describe('the deployed model on the endpoint'),
    trafficPercent: z.number().int().optional().describe("the share of the endpoint's traffic this version takes, 0..100"),
    rollout: rolloutDecisionSchema.optional().describe('the rollout decision this change carries out (from CANARY_ANALYSIS), with its numbers'),
  })
  .describe('A model version changed state');

export const resultAttributesSchema = z.strictObject({
  type: z.literal('result'),
  job: text,
  status: z.enum(['OK', 'ERROR']),
  resultId: text,
  label: text.optional(),
  model: text.optional(),
});

export const jobCompletedAttributesSchema = z.strictObject({ type: z.literal('job-completed'), job: text, model: text.optional() });

export const predictionResultsAttributesSchema = z.discriminatedUnion('type', [resultAttributesSchema, jobCompletedAttributesSchema]);

export const modelEventAttributesSchema = z.strictObject({ model: text, version: text, state: z.enum(VERSION_STATES) });

export type ResultMessage = z.infer<typeof resultMessageSchema>;
export type JobCompletedMessage = z.infer<typeof jobCompletedMessageSchema>;
export type PredictionResultsMessage = z.infer<typeof predictionResultsMessageSchema>;
export type ModelEventMessage = z.infer<typeof modelEventMessageSchema>;

/** The topics subscribers read, with their contract; `protoMessage` names the schema's message type. */
export const MESSAGE_CONTRACTS = {
  'prediction-results': { protoMessage: 'PredictionResultsMessage', body: predictionResultsMessageSchema, attributes: predictionResultsAttributesSchema },
  'model-events': { protoMessage: 'ModelEventMessage', body: modelEventMessageSchema, attributes: modelEventAttributesSchema },
} as const;

export type ContractTopic = keyof typeof MESSAGE_CONTRACTS;

// The contract is the code's own types: the result message is built from the result document's
// schema; a field added to ModelEvent without being declared here (or the other way round) fails
// to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const resultIsLabelResult: Same<Omit<ResultMessage, 'type'>, LabelResult> = true;
const modelEventIsModelEvent: Same<ModelEventMessage, ModelEvent> = true;
void resultIsLabelResult;
void modelEventIsModelEvent;
