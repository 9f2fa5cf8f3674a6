import { parseModelConfig, parsePreprocessorConfig } from '#local/model/hf-config';
import { ModelConfigError } from '#local/model/image-errors';

describe('Hugging Face config files', () => {
  test("reads ViTImageProcessor's preprocessor_config.json (google/vit-base-patch16-224)", () => {
    const p = parsePreprocessorConfig({
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_processor_type: 'ViTImageProcessor',
      image_std: [0.5, 0.5, 0.5],
      resample: 2,
      rescale_factor: 0.00392156862745098,
      size: { height: 224, width: 224 },
    });
    expect(p.size).toEqual({ height: 224, width: 224 });
    // pixel * scale + offset: 0 -> -1, 255 -> 1
    for (let c = 0; c < 3; c++) {
      expect(0 * p.scale[c] + p.offset[c]).toBeCloseTo(-1, 9);
      expect(255 * p.scale[c] + p.offset[c]).toBeCloseTo(1, 9);
    }
  });

  test('reads the older feature extractor form (size as a number, defaults for the rest)', () => {
    const p = parsePreprocessorConfig({ feature_extractor_type: 'ViTFeatureExtractor', size: 384, image_mean: [0.485, 0.456, 0.406], image_std: [0.229, 0.224, 0.225] });
    expect(p.size).toEqual({ height: 384, width: 384 });
    expect(128 * p.scale[1] + p.offset[1]).toBeCloseTo((128 / 255 - 0.456) / 0.224, 9);
  });

  test('do_normalize false keeps the rescale only', () => {
    const p = parsePreprocessorConfig({ size: 28, do_normalize: false });
    expect(255 * p.scale[0] + p.offset[0]).toBeCloseTo(1, 9);
    expect(p.offset).toEqual([-0, -0, -0]);
  });

  test('a shortest_edge size or a zero std is refused with the field named', () => {
    expect(() => parsePreprocessorConfig({ size: { shortest_edge: 224 } })).toThrow(/preprocessor_config.json: size/);
    expect(() => parsePreprocessorConfig({ size: 224, image_std: [0.5, 0, 0.5] })).toThrow(ModelConfigError);
  });

  test('id2label becomes labels by class index, whatever the key order', () => {
    expect(parseModelConfig({ id2label: { '1': 'cat', '0': 'tench', '2': 'goldfish' } })).toEqual(['tench', 'cat', 'goldfish']);
  });

  test('id2label with a gap or without ids is refused', () => {
    expect(() => parseModelConfig({ id2label: { '0': 'a', '2': 'c' } })).toThrow(/ids must be 0..1/);
    expect(() => parseModelConfig({ label2id: { a: 0 } })).toThrow(/config.json: id2label/);
    expect(() => parseModelConfig({ id2label: { x: 'a' } })).toThrow(ModelConfigError);
  });
});
