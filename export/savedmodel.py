"""SavedModel export: a TF Serving model folder ``<name>/1/`` with signatures.

``serving_default``: the model's named int32 id/mask inputs, each
(batch, length) with both axes dynamic -> a dict of float outputs
(``logits``, or ``sequence_output``/``pooled_output`` for a BERT backbone).

Text signatures (the tokenizer inside the graph, see ``export.text_signatures``)
are added when the model comes with a tokenizer.

The model is traced inside ``zoo.layers.export_mode()``: attention runs as
plain inline ops rather than a nested XLA function, so the SavedModel runs
on any TensorFlow runtime (TF Serving, TF C API) without XLA.
"""

import os

import tensorflow as tf

from zoo.layers import export_mode

VERSION = "1"  # TF Serving reads numbered version folders under the model folder


def serving_function(info):
    """The ``serving_default`` concrete function: named ids in -> dict of outputs."""
    model, names = info.model, info.input_names

    def serve(**inputs):
        outputs = model({n: inputs[n] for n in names}, training=False)
        if not isinstance(outputs, dict):
            outputs = {info.output_names[0]: outputs}
        return {k: tf.cast(v, tf.float32) for k, v in outputs.items()}

    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in names}
    with export_mode():
        return tf.function(serve).get_concrete_function(**specs)


def describe_signatures(loaded_or_signatures):
    """{signature: {"inputs": {...}, "outputs": {...}}} with shapes and dtypes."""
    result = {}
    for key, function in loaded_or_signatures.items():
        _, kwargs = function.structured_input_signature
        result[key] = {
            "inputs": {n: {"shape": s.shape.as_list(), "dtype": s.dtype.name} for n, s in sorted(kwargs.items())},
            "outputs": {
                n: {"shape": s.shape.as_list(), "dtype": s.dtype.name}
                for n, s in sorted(function.structured_outputs.items())
            },
        }
    return result


def save_savedmodel(info, model_folder, text=True):
    """Write ``model_folder/1/`` (a SavedModel); return its signature descriptions."""
    module = tf.Module()
    module.model = info.model
    signatures = {"serving_default": serving_function(info)}
    if text and info.tokenizer is not None:
        from export.text_signatures import text_signatures

        module.tokenizer = info.tokenizer
        if info.target_tokenizer is not None:
            module.target_tokenizer = info.target_tokenizer
        signatures.update(text_signatures(info))
    path = os.path.join(model_folder, VERSION)
    tf.saved_model.save(module, path, signatures=signatures)
    return path, describe_signatures(signatures)


def run_savedmodel(path, inputs, signature="serving_default"):
    """Load ``path`` and run ``signature`` on numpy ``inputs``: {output name: numpy}."""
    loaded = tf.saved_model.load(path)
    function = loaded.signatures[signature]
    outputs = function(**{k: tf.constant(v) for k, v in inputs.items()})
    return {k: v.numpy() for k, v in outputs.items()}
