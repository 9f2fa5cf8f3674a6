/**
 * Vertex AI prediction prices dropship's cost model uses: USD per node hour of the machine
 * types and accelerators it deploys, us-central1 on-demand list prices for custom-trained
 * models ("Prediction and explanation" on https://cloud.google.com/vertex-ai/pricing).
 * Vertex AI bills a BatchPredictionJob's nodes at the same per-node-hour rates as online
 * prediction nodes, from the start of each node to the end of the job.
 *
 * DATED 2026-12-01. These numbers were written down on that date from the pricing page as
 * the author knew it; this machine could not load the page's tables to confirm them (see
 * docs/labeling.md, "Cost model"). Prices change and differ by region: re-check every number
 * against the page (or the Cloud Billing Catalog API, service "Vertex AI") before relying on
 * an estimate, and update PRICE_TABLE_DATE with them.
 */
export interface PriceTable {
  date: string;
  source: string;
  region: string;
  currency: 'USD';
  /** per node hour, by machine type */
  machines: Record<string, number>;
  /** per accelerator per hour, by accelerator type */
  accelerators: Record<string, number>;
}

export const PRICE_TABLE_DATE = '2026-12-01';

export const PRICE_TABLE: PriceTable = {
  date: PRICE_TABLE_DATE,
  source: 'https://cloud.google.com/vertex-ai/pricing (custom-trained models: prediction and explanation, us-central1); unverified here, re-check',
  region: 'us-central1',
  currency: 'USD',
  machines: {
    'n1-standard-2': 0.1095,
    'n1-standard-4': 0.219,
    'n1-standard-8': 0.438,
    'n1-standard-16': 0.876,
    'n1-standard-32': 1.752,
    'n1-highmem-2': 0.1237,
    'n1-highmem-4': 0.2474,
    'n1-highmem-8': 0.4948,
    'n1-highcpu-4': 0.1621,
    'n1-highcpu-8': 0.3242,
    'e2-standard-2': 0.0771,
    'e2-standard-4': 0.1541,
    'e2-standard-8': 0.3082,
    'g2-standard-4': 0.8129,
    'g2-standard-8': 0.9785,
  },
  accelerators: {
    NVIDIA_TESLA_T4: 0.4025,
    NVIDIA_TESLA_P4: 0.69,
    NVIDIA_TESLA_V100: 2.852,
    NVIDIA_TESLA_P100: 1.679,
    NVIDIA_L4: 0.644,
  },
};
