export interface Classification {
  label: string;
  confidence: number;
}

/**
 * Top-1 of softmax(logits row): the arg max and its probability, computed stably
 * (1 / sum(exp(l - max))) without materialising the whole distribution.
 */
export function softmaxTop1(logits: Float32Array, row: number, classes: number, labels: readonly string[]): Classification {
  const start = row * classes;
  let best = 0;
  let max = logits[start];
  for (let i = 1; i < classes; i++) {
    if (logits[start + i] > max) {
      max = logits[start + i];
      best = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < classes; i++) sum += Math.exp(logits[start + i] - max);
  return { label: labels[best], confidence: 1 / sum };
}
