/**
 * Held-out accuracy of a model folder through the full serving contract: each held-out digit
 * is encoded as PNG bytes and labelled by OnnxImageClassifier (decode, resize, normalize,
 * ONNX Runtime, softmax), exactly as the Vertex AI emulator serves it.
 *
 *   npx node --conditions=source --import tsx local/model-build/evaluate-demo-model.ts [--model DIR] [--format png|jpeg]
 */
import { parseArgs } from 'node:util';
import { OnnxImageClassifier } from '#local/model/onnx-image-classifier';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { DEMO_MODEL_DIR } from './export-mnist-vit';

export async function evaluateDemoModel(modelDir: string, format: 'png' | 'jpeg' = 'png', batchSize = 100): Promise<{ correct: number; total: number; accuracy: number }> {
  const digits = heldOutDigits();
  const classifier = await OnnxImageClassifier.load(modelDir, { intraOpNumThreads: 1 });
  let correct = 0;
  try {
    for (let i = 0; i < digits.length; i += batchSize) {
      const batch = digits.slice(i, i + batchSize);
      const images = await Promise.all(batch.map((d) => encodeDigit(d.pixels, format)));
      const results = await classifier.classify(images);
      results.forEach((r, j) => (correct += r.label === String(batch[j].label) ? 1 : 0));
    }
  } finally {
    await classifier.close();
  }
  return { correct, total: digits.length, accuracy: correct / digits.length };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, format: { type: 'string' } } });
  const format = values.format === 'jpeg' ? 'jpeg' : 'png';
  evaluateDemoModel(values.model ?? DEMO_MODEL_DIR, format).then(
    ({ correct, total, accuracy }) => console.log(`held-out accuracy (${format} bytes -> serving contract): ${correct}/${total} = ${(100 * accuracy).toFixed(2)}%`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
