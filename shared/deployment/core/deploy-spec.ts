import { z } from 'zod';
import { checkMachine } from './machine-rules';
import { rolloutPolicySchema } from './rollout-policy';

/**
 * deploy.json: how a version is served. Every field is optional; defaults are Vertex AI's
 * own (n1-standard-2, one replica, 60% CPU target) with `replace` traffic.
 */
const traffic = z
  .string()
  .regex(/^(replace|canary:([1-9]|[1-9][0-9]))$/, "traffic must be 'replace' or 'canary:<1-99>'")
  .transform((s): TrafficStrategy => (s === 'replace' ? { kind: 'replace' } : { kind: 'canary', percent: Number(s.slice(7)) }));

export type TrafficStrategy = { kind: 'replace' } | { kind: 'canary'; percent: number };

export const deploySpecSchema = z
  .strictObject({
    displayName: z.string().min(1).max(128).optional(),
    machineType: z
      .string()
      .regex(/^[a-z0-9]+(-[a-z0-9]+)+$/, 'a machine type such as n1-standard-4')
      .default('n1-standard-2'),
    acceleratorType: z
      .string()
      .regex(/^[A-Z0-9_]+$/, 'an AcceleratorType enum name such as NVIDIA_TESLA_T4')
      .refine((v) => v !== 'ACCELERATOR_TYPE_UNSPECIFIED', 'name an accelerator or leave acceleratorType out')
      .optional(),
    acceleratorCount: z.number().int().min(1).max(16).optional(),
    minReplicaCount: z.number().int().min(1, 'minReplicaCount must be at least 1 (Vertex AI v1 cannot scale to zero)').default(1),
    maxReplicaCount: z.number().int().min(1).optional(),
    autoscalingTargetPercent: z.number().int().min(1).max(100).default(60),
    traffic: traffic.default({ kind: 'replace' }),
    /**
     * how a TensorFlow SavedModel is served: `prebuilt` (Vertex AI's own TensorFlow image for the
     * model's TF version, while one is available) or `tf-serving` (the official TensorFlow Serving
     * image mirrored into the project's Artifact Registry, as a custom container). Unset: prebuilt
     * while Vertex AI still offers a prebuilt TensorFlow image, tf-serving after (see
     * container-image.ts).
     */
    serving: z.enum(['prebuilt', 'tf-serving'], { message: "serving must be 'prebuilt' or 'tf-serving'" }).optional(),
    /**
     * an image to serve with instead of the one dropship picks. With `serving: "tf-serving"` it
     * replaces the TensorFlow Serving image (same arguments, routes and ports); otherwise it is
     * used as a prebuilt-style image with no container arguments.
     */
    containerImageUri: z
      .string()
      .regex(/^[a-z0-9.-]+(:\d+)?\/\S+$/, 'a container image URI such as us-docker.pkg.dev/p/r/image:tag')
      .optional(),
    /**
     * the most images the predict workers put in one predict call to this version's endpoint,
     * within the workers' own PREDICT_MAX_INSTANCES (32), which it can lower, not raise. A large
     * model on CPU replicas is often fastest at small batches: see docs/labeling.md.
     */
    maxInstancesPerCall: z.number().int().min(1).max(1000).optional(),
    /** a canary's golden-set gate and live analysis, and what happens after (rollout-policy.ts) */
    rollout: rolloutPolicySchema.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.maxReplicaCount !== undefined && spec.maxReplicaCount < spec.minReplicaCount) {
      ctx.addIssue({ code: 'custom', path: ['maxReplicaCount'], message: `maxReplicaCount (${spec.maxReplicaCount}) is below minReplicaCount (${spec.minReplicaCount})` });
    }
    if (spec.rollout && spec.traffic.kind !== 'canary') {
      ctx.addIssue({ code: 'custom', path: ['rollout'], message: "a rollout policy judges a canary: set traffic to 'canary:<percent>'" });
    }
    if (spec.acceleratorCount !== undefined && spec.acceleratorType === undefined) {
      ctx.addIssue({ code: 'custom', path: ['acceleratorCount'], message: 'acceleratorCount needs acceleratorType' });
      return;
    }
    // Vertex AI's machine/accelerator compatibility, checked here so a bad spec never reaches DeployModel
    for (const problem of checkMachine(spec)) ctx.addIssue({ code: 'custom', path: ['machineType'], message: problem });
  });

export type DeploySpec = z.output<typeof deploySpecSchema>;

export type SpecResult = { ok: true; spec: DeploySpec } | { ok: false; reason: string };

export const DEFAULT_SPEC: DeploySpec = deploySpecSchema.parse({});

/**
 * Parses deploy.json text (undefined when the folder has none) into a spec or a readable reason.
 * `defaults` are the deployment's own defaults (DEFAULT_DEPLOY_SPEC, terraform's
 * default_deployment_spec): deploy.json's fields win over them, field by field.
 */
export function parseDeploySpec(text: string | undefined, defaults: Record<string, unknown> = {}): SpecResult {
  let json: unknown = {};
  if (text !== undefined) {
    try {
      json = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: `deploy.json is not valid JSON: ${(err as Error).message}` };
    }
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, reason: 'deploy.json is invalid: (root): expected an object' };
  const result = deploySpecSchema.safeParse({ ...defaults, ...json });
  if (result.success) return { ok: true, spec: result.data };
  const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, reason: `deploy.json is invalid: ${problems.join('; ')}` };
}

export function isAccelerated(spec: DeploySpec): boolean {
  return spec.acceleratorType !== undefined;
}

export function trafficLabel(t: TrafficStrategy): string {
  return t.kind === 'replace' ? 'replace' : `canary:${t.percent}`;
}
