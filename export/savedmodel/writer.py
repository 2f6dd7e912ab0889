"""SavedModel export: a TF Serving model folder ``<name>/1/`` with signatures.

``serving_default``: the model's named int32 id/mask inputs, each
(batch, length) with both axes dynamic -> a dict of float outputs
(``logits``, or ``sequence_output``/``pooled_output`` for a BERT backbone).

Text signatures (the tokenizer inside the graph, see ``export.savedmodel.text_signatures``)
are added when the model comes with a tokenizer.

The model is traced inside ``zoo.layers.export_mode()``: attention runs as
plain inline ops rather than a nested XLA function, so the SavedModel runs
on any TensorFlow runtime (TF Serving, TF C API) without XLA.

Written with Keras' ``ExportArchive``, not ``tf.saved_model.save`` of a
``tf.Module`` holding the model. The difference is what TF Serving sees: a
Keras 3 variable is a wrapper around a ``tf.Variable``; saved as a child of
the module, the wrapper exports a *second* ``tf.Variable`` (``Variable_N``)
that the checkpoint restores, while the signatures read the wrapped
variable (``block_0/.../kernel``), which only TF2's object-graph loader
rebinds. The TF1 session loader (TF Serving, ``saved_model_cli run``)
restores by name through the SavedModel's saver, so the signatures' variables
stayed uninitialized ("Resource localhost/block_0/... does not exist").
``ExportArchive.add_endpoint`` tracks the variables the signature functions
actually capture, so the saver restores exactly those, each stored once.
The model itself is deliberately not ``track``-ed: that would add the
wrappers too and store every weight twice. The tokenizers are (through a
``tf.Module`` holding them: ``track`` refuses a Keras layer never "built",
which a tokenizer is) for their lookup tables, whose initializers the
SavedModel's init op runs.
"""

import os

import keras
import tensorflow as tf

from export.savedmodel.text_signatures import text_signatures
from export.savedmodel.tracing import concrete, traced
from zoo.layers import export_mode

VERSION = "1"  # TF Serving reads numbered version folders under the model folder


def serving_function(info):
    """The ``serving_default`` function (traced once): named ids in -> dict of outputs."""
    model, names = info.model, info.input_names

    def serve(**inputs):
        outputs = model({n: inputs[n] for n in names}, training=False)
        if not isinstance(outputs, dict):
            outputs = {info.output_names[0]: outputs}
        return {k: tf.cast(v, tf.float32) for k, v in outputs.items()}

    specs = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in names}
    with export_mode():
        return traced(serve, **specs)


def describe_signatures(loaded_or_signatures):
    """{signature: {"inputs": {...}, "outputs": {...}}} with shapes and dtypes."""
    result = {}
    for key, function in loaded_or_signatures.items():
        args, kwargs = function.structured_input_signature
        specs = {**{s.name: s for s in args}, **kwargs}  # text signatures take named positional specs
        result[key] = {
            "inputs": {n: {"shape": s.shape.as_list(), "dtype": s.dtype.name} for n, s in sorted(specs.items())},
            "outputs": {
                n: {"shape": s.shape.as_list(), "dtype": s.dtype.name}
                for n, s in sorted(function.structured_outputs.items())
            },
        }
    return result


def save_savedmodel(info, model_folder, text=True, generate_xla=True):
    """Write ``model_folder/1/`` (a SavedModel); return (path, signature descriptions).

    ``generate_xla``: besides ``generate`` (no XLA: any TF Serving), also write
    the XLA-compiled ``generate_xla`` (9-12x the tokens/s on gpt-nano, but served
    only by a TF Serving started with ``--xla_cpu_compilation_enabled=true``;
    ``benchmarks/savedmodel_generate.py``).
    """
    archive = keras.export.ExportArchive()
    functions = {"serving_default": serving_function(info)}
    if text and info.tokenizer is not None:
        tokenizers = tf.Module()  # a trackable root: track() walks it for the tokenizers' tables
        unique = {id(t): t for t in (info.tokenizer, info.target_tokenizer) if t is not None}
        tokenizers.items = list(unique.values())
        archive.track(tokenizers)
        functions.update(text_signatures(info, generate_xla=generate_xla))
    signatures = describe_signatures({k: concrete(f) for k, f in functions.items()})
    for name, function in functions.items():
        archive.add_endpoint(name, function)
    path = os.path.join(model_folder, VERSION)
    with export_mode():  # saving retraces each function for the object graph: inline attention there too
        archive.write_out(path, verbose=False)
    return path, signatures
