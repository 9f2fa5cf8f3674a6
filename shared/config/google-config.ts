import { z } from 'zod';

/** Variables every function reads to reach Google Cloud (or the local stack's emulators). */
export const googleConfigSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1, 'the Google Cloud project id is required'),
  VERTEX_LOCATION: z
    .string()
    .regex(/^[a-z]+-[a-z]+\d+$/, 'a region such as us-central1')
    .default('us-central1'),
  /**
   * host:port of a Vertex AI API endpoint. Unset on Google Cloud (the regional endpoint is
   * used). The local stack sets it to its Vertex AI emulator, spoken to in plaintext.
   */
  VERTEX_API_ENDPOINT: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'host or host:port')
    .optional(),
});

export type GoogleConfig = z.infer<typeof googleConfigSchema>;
