/**
 * preprocessor_config.json as Hugging Face's ViTImageProcessor writes it: resize to a square,
 * rescale to [0, 1], normalize with mean/std 0.5 (so [-1, 1]). The serving contract reads it.
 */
export function vitPreprocessorConfig(size: number): Record<string, unknown> {
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: size, width: size },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
}
