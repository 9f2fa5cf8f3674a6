import { z } from 'zod';
import { googleConfigSchema } from '#shared/config/google-config';
import { deploySpecSchema } from '#shared/deployment/core/deploy-spec';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

/** model-drop's environment, parsed once on the first event. */
export const modelDropConfigSchema = googleConfigSchema.extend({
  MODELS_BUCKET: z.string().min(3, 'the models bucket name'),
  MODEL_EVENTS_TOPIC: z.string().min(1, 'the model-events topic name'),
  /** deploy nothing before the `_COMPLETE` marker lands (what `dropship deploy` uploads last) */
  REQUIRE_COMPLETE_MARKER: bool,
  /** JSON of the serving signature to require (#shared/savedmodel ExpectedSignature); default: PRODUCT.md's */
  EXPECTED_SIGNATURE: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      try {
        return JSON.parse(s) as import('#shared/savedmodel/signature-check').ExpectedSignature;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    }),
  /**
   * JSON defaults under every version's deploy.json (same schema; terraform's
   * default_deployment_spec). Checked here, so a bad default fails at start, not per version.
   */
  DEFAULT_DEPLOY_SPEC: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      let json: unknown;
      try {
        json = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
      const checked = deploySpecSchema.safeParse(json);
      if (!checked.success) {
        ctx.addIssue({ code: 'custom', message: `is not a valid deploy spec: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
        return z.NEVER;
      }
      return json as Record<string, unknown>;
    }),
  /**
   * the TensorFlow Serving image mirrored into Artifact Registry (terraform/serving-image.tf),
   * CPU tag; GPU deploys add -gpu. Serves SavedModels once Vertex AI's prebuilt TF images end.
   */
  TF_SERVING_IMAGE: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?\/\S+:[\w][\w.-]*$/, 'an image URI with a pinned tag')
    .optional(),
  /** how long to wait for UploadModel before the reconciler takes over (Vertex: ~1-5 min) */
  UPLOAD_WAIT_SECONDS: z.coerce.number().int().min(0).max(400).default(120),
  LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(540),
});

export type ModelDropConfig = z.infer<typeof modelDropConfigSchema>;
