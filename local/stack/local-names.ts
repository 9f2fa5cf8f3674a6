import type { BucketRole } from '#shared/topology';

/**
 * Names the local stack gives to what TOPOLOGY describes. The project is a demo-* id, which
 * the Google client libraries and emulators treat as never touching real Google Cloud.
 */
export const LOCAL_PROJECT = 'demo-dropship';
export const LOCAL_REGION = 'us-central1';

export const LOCAL_BUCKETS: Record<BucketRole, string> = {
  models: 'dropship-models',
  images: 'dropship-images',
};

/** The push subscription that feeds a Pub/Sub-triggered function (Eventarc names its own similarly). */
export function pushSubscriptionName(functionName: string): string {
  return `${functionName}-push`;
}
