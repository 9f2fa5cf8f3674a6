#!/usr/bin/env python3
"""Export google/vit-base-patch16-224 as dropship's reference model folder.

Writes, into OUT_DIR:
  saved_model.pb, variables/   a TensorFlow SavedModel whose serving_default signature is the
                               contract of PRODUCT.md: string_input (DT_STRING [-1], raw image
                               bytes) -> confidence (DT_FLOAT [-1]), label (DT_STRING [-1]),
                               with the preprocessing inside the graph
  model.onnx                   the same network (pixel_values [N,3,224,224] -> logits [N,1000]),
                               for dropship's local runtime (the Vertex AI emulator)
  config.json                  id2label, as transformers writes it
  preprocessor_config.json     size 224, mean/std 0.5, as transformers writes it

Needs a machine with internet access (it downloads the checkpoint from the Hugging Face Hub):
  pip install "tensorflow==2.15.*" "transformers>=4.38,<5" "optimum[exporters]" onnxruntime pillow
  python local/model-build/export_vit_b16.py --out vit-b16/1
It was NOT run on the machine dropship was built on (no internet there); see docs/model.md.
"""
import argparse
import io
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from transformers import TFViTForImageClassification, ViTImageProcessor

MODEL_ID = "google/vit-base-patch16-224"


class ServingModule(tf.Module):
    """The model plus the serving contract's pre- and postprocessing, as one tf.function."""

    def __init__(self, model, processor):
        super().__init__()
        self.model = model
        size = processor.size
        self.height = int(size["height"] if isinstance(size, dict) else size)
        self.width = int(size["width"] if isinstance(size, dict) else size)
        self.scale = float(processor.rescale_factor)
        self.mean = tf.constant(processor.image_mean, tf.float32)
        self.std = tf.constant(processor.image_std, tf.float32)
        id2label = model.config.id2label
        self.labels = tf.constant([id2label[i] for i in range(len(id2label))])

    def _pixels(self, image_bytes):
        # decode_image takes JPEG and PNG (the local runtime takes both); EXIF orientation is
        # ignored, as decode_jpeg ignores it
        image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
        image.set_shape([None, None, 3])
        # bilinear with half-pixel centers and no antialiasing (tf.image.resize's default)
        image = tf.image.resize(image, [self.height, self.width], method="bilinear", antialias=False)
        image = (image * self.scale - self.mean) / self.std
        return tf.transpose(image, [2, 0, 1])  # channels-first, as ViT takes pixel_values

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="string_input")])
    def serve(self, string_input):
        pixels = tf.map_fn(
            self._pixels, string_input, fn_output_signature=tf.TensorSpec([3, self.height, self.width], tf.float32)
        )
        logits = self.model(pixel_values=pixels, training=False).logits
        probabilities = tf.nn.softmax(logits, axis=-1)
        return {
            "confidence": tf.reduce_max(probabilities, axis=-1),
            "label": tf.gather(self.labels, tf.argmax(probabilities, axis=-1)),
        }


def export_onnx(out_dir):
    # optimum exports the PyTorch weights of the same checkpoint: pixel_values -> logits
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory() as tmp:
        main_export(MODEL_ID, output=tmp, task="image-classification", opset=17)
        shutil.copy(os.path.join(tmp, "model.onnx"), os.path.join(out_dir, "model.onnx"))


def check(out_dir, sample_jpeg):
    """The SavedModel and the ONNX copy must agree on a sample image."""
    import onnxruntime as ort

    loaded = tf.saved_model.load(out_dir)
    serve = loaded.signatures["serving_default"]
    result = serve(string_input=tf.constant([sample_jpeg]))
    label = result["label"].numpy()[0].decode()
    confidence = float(result["confidence"].numpy()[0])
    pixels = ServingModule(_model(), _processor())._pixels(tf.constant(sample_jpeg)).numpy()[None]
    session = ort.InferenceSession(os.path.join(out_dir, "model.onnx"))
    logits = session.run(["logits"], {"pixel_values": pixels.astype(np.float32)})[0][0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    print(f"SavedModel: {label} {confidence:.4f}; ONNX: class {int(p.argmax())} {float(p.max()):.4f}")


_cache = {}


def _model():
    if "model" not in _cache:
        _cache["model"] = TFViTForImageClassification.from_pretrained(MODEL_ID)
    return _cache["model"]


def _processor():
    if "processor" not in _cache:
        _cache["processor"] = ViTImageProcessor.from_pretrained(MODEL_ID)
    return _cache["processor"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="the version folder to write, e.g. vit-b16/1")
    parser.add_argument("--sample", help="a JPEG to check the SavedModel against the ONNX copy with")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    model, processor = _model(), _processor()
    module = ServingModule(model, processor)
    tf.saved_model.save(module, args.out, signatures={"serving_default": module.serve})
    model.config.to_json_file(os.path.join(args.out, "config.json"))
    processor.save_pretrained(args.out)  # preprocessor_config.json
    export_onnx(args.out)

    if args.sample:
        with open(args.sample, "rb") as f:
            check(args.out, f.read())
    else:
        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (640, 480), (120, 80, 200)).save(buf, format="JPEG")
        check(args.out, buf.getvalue())
    print(f"wrote {args.out}: upload the folder with `dropship deploy {args.out} --model vit-b16 --version 1`")


if __name__ == "__main__":
    main()
