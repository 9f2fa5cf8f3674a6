/**
 * What the labeling pipeline sends to Vertex AI, against the baseline of one predict call per
 * image with the file sent as is: predict calls per image, request bytes per image, and how
 * often the prepared image gets the same label as the original (on the demo model, run
 * in-process with the same runtime the Vertex AI emulator uses).
 *
 *   npx node --conditions=source --import tsx local/bench/labeling-efficiency.ts [--photos N]
 *
 * Packing is measured as a manifest chunk packs (all images available at once); folder drops
 * coalesce only what arrives within the window, which the integration tests report.
 */
import { resolve } from 'node:path';
import { OnnxImageClassifier } from '#local/model/onnx-image-classifier';
import { prepareWithSharp as prepareImage } from '#shared/labeling/adapters/sharp-image-codec';
import { DEFAULT_PREPARE_LIMITS } from '#shared/labeling/core/prepare-image';
import { fitsOneRequest, instanceRequestBytes, packInstances, REQUEST_OVERHEAD_BYTES, type PackLimits } from '#shared/labeling/core/pack-instances';
import { encodeDigit, heldOutDigits, MIXED_DIGIT_SHAPES } from '#local/model-build/mnist-digits';
import { cameraPhotoOfDigit } from '#local/model-build/image-fixtures';

const PACK: PackLimits = { maxRequestBytes: 1_450_000, maxInstances: 32 };

async function measure(name: string, files: Buffer[], truth: number[], upright: boolean[], classifier: OnnxImageClassifier) {
  const prepared = [];
  for (const f of files) prepared.push(await prepareImage(f, DEFAULT_PREPARE_LIMITS));
  const groups = packInstances(prepared, (p) => p.bytes.length, PACK);
  const ourBytes = groups.reduce((s, g) => s + REQUEST_OVERHEAD_BYTES + g.reduce((t, p) => t + instanceRequestBytes(p.bytes.length), 0), 0);
  const baselineBytes = files.reduce((s, f) => s + REQUEST_OVERHEAD_BYTES + instanceRequestBytes(f.length), 0);
  const overLimit = files.filter((f) => !fitsOneRequest(f.length, { ...PACK, maxRequestBytes: 1_500_000 })).length;
  const original: string[] = [];
  const ours: string[] = [];
  for (let i = 0; i < files.length; i += 16) {
    original.push(...(await classifier.classify(files.slice(i, i + 16))).map((c) => c.label));
    ours.push(...(await classifier.classify(prepared.slice(i, i + 16).map((p) => p.bytes))).map((c) => c.label));
  }
  // The model ignores EXIF orientation, so only upright files can be compared label for label.
  const comparable = files.map((_, i) => i).filter((i) => upright[i]);
  const same = comparable.filter((i) => original[i] === ours[i]).length;
  const accuracy = (labels: string[]) => +(labels.filter((l, i) => l === String(truth[i])).length / files.length).toFixed(4);
  return {
    set: name,
    images: files.length,
    callsPerImage: +(groups.length / files.length).toFixed(4),
    requestBytesPerImage: Math.round(ourBytes / files.length),
    baselineCallsPerImage: 1,
    baselineRequestBytesPerImage: Math.round(baselineBytes / files.length),
    baselineRequestsOver1_5MB: overLimit,
    sameLabelAsOriginalUpright: `${same}/${comparable.length}`,
    accuracyPrepared: accuracy(ours),
    accuracySentAsIs: accuracy(original),
    converted: prepared.filter((p) => p.converted).length,
  };
}

async function main() {
  const photosArg = process.argv.indexOf('--photos');
  const photoCount = photosArg > 0 ? Number(process.argv[photosArg + 1]) : 24;
  const classifier = await OnnxImageClassifier.load(resolve(__dirname, '..', 'demo-model', 'mnist-vit'));
  const digits = heldOutDigits();
  const shapes = MIXED_DIGIT_SHAPES;
  const digitFiles: Buffer[] = [];
  const digitTruth: number[] = [];
  for (let i = 0; i < 500; i++) {
    const s = shapes[i % shapes.length]!;
    digitFiles.push(await encodeDigit(digits[3 * i]!.pixels, s.format, { size: s.size, quality: 90 }));
    digitTruth.push(digits[3 * i]!.label);
  }
  const photos: Buffer[] = [];
  const photoTruth: number[] = [];
  const upright: boolean[] = [];
  const orientations = [1, 6, 1, 3, 1, 8] as const;
  for (let i = 0; i < photoCount; i++) {
    const d = digits[7 + 61 * i]!;
    const orientation = orientations[i % orientations.length]!;
    photos.push(await cameraPhotoOfDigit(d.pixels, { seed: i + 1, orientation, format: i % 5 === 4 ? 'png' : 'jpeg' }));
    photoTruth.push(d.label);
    upright.push(orientation === 1);
  }
  const rows = [
    await measure(
      '500 held-out digits (PNG/JPEG, 28-560 px)',
      digitFiles,
      digitTruth,
      digitFiles.map(() => true),
      classifier,
    ),
    await measure(`${photoCount} camera-sized photos of digits (4032x3024, half EXIF-rotated, JPEG/PNG)`, photos, photoTruth, upright, classifier),
  ];
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  await classifier.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
