import { emptyPredictStats, type PredictStats } from '#shared/labeling/predict-batcher';

/**
 * What this instance's predict calls sent, counted by the batchers index.ts wires (the bench
 * and the pipeline test read it). A file of its own, so reading it loads neither the worker
 * nor its clients.
 */
export const predictStats: PredictStats = emptyPredictStats();
