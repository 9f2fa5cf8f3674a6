import { evaluateDemoModel } from '#local/model-build/evaluate-demo-model';
import { DEMO_MODEL_DIR } from '#local/model-build/export-mnist-vit';
import { OnnxImageClassifier } from '#local/model/onnx-image-classifier';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';

describe('the committed demo model, through the full serving contract', () => {
  test('labels at least 93% of the 1,500 held-out digits (PNG bytes in, label out)', async () => {
    const { correct, total, accuracy } = await evaluateDemoModel(DEMO_MODEL_DIR, 'png');
    expect(total).toBe(1500);
    console.log(`held-out accuracy ${correct}/${total}`);
    expect(accuracy).toBeGreaterThanOrEqual(0.93);
  });

  test('a digit drawn as a 224x224 JPEG is resized back down and labelled as its 28x28 PNG is', async () => {
    const digits = heldOutDigits().filter((_, i) => i % 30 === 0); // 50 digits, 5 of each
    const classifier = await OnnxImageClassifier.load(DEMO_MODEL_DIR, { intraOpNumThreads: 1 });
    try {
      const small = await classifier.classify(await Promise.all(digits.map((d) => encodeDigit(d.pixels, 'png'))));
      const large = await classifier.classify(await Promise.all(digits.map((d) => encodeDigit(d.pixels, 'jpeg', { size: 224, quality: 95 }))));
      // 8x nearest upscaling then TF's bilinear 224 -> 28 samples between two copies of each source
      // pixel, so only JPEG's loss separates the two inputs
      const agree = large.filter((r, i) => r.label === small[i].label && Math.abs(r.confidence - small[i].confidence) < 0.05).length;
      expect(agree).toBeGreaterThanOrEqual(48);
    } finally {
      await classifier.close();
    }
  });
});
