"""LSTM peers: the zoo's LSTM LM and seq2seq rebuilt with plain Keras and with torch, same weights.

* ``keras-lstm``: ``zoo.bench.lstm_keras`` (plain ``keras.layers.LSTM``,
  Keras' default implementation) under ``tf.function`` with one trace for
  every shape, as the zoo's ``tf-function`` runtime;
* ``torch-lstm``: ``zoo.bench.lstm_torch`` (``torch.nn.LSTM``) under
  ``torch.inference_mode()`` with ``torch.set_num_threads(os.cpu_count())``;
  its process never imports TensorFlow (weights via h5py, reference logits
  via numpy), so its peak memory is torch's own.

Unlike the keras-hub and transformers peers (random weights of the same
configuration), these carry the zoo model's own weights, read from the
``.keras`` file the bench exported (``zoo.bench.lstm_weights``), so they can
- and must - prove parity: at each shape the first call's logits are
compared with the zoo Keras model's on the same inputs
(``zoo.bench.reference``, written by the prepare step) and a difference
above ``PARITY_ATOL`` raises a RuntimeError, which fails that shape before
any timed call. The check runs inside the first call (timed apart as
``first_call_s``, never among the timed calls) so that first call stays cold
- tracing included - as for the zoo's runtimes; it adds the comparison
(milliseconds) to ``first_call_s``. The largest difference over the shapes
is the case's ``max_abs_diff`` (the report's "max abs diff vs Keras").
"""

import os
import time

import numpy as np

from zoo.bench import inputs as inputs_lib
from zoo.bench import reference
from zoo.bench.lstm_weights import lstm_weights
from zoo.bench.zoo_runners import _artifact

PEERS = ("keras-lstm", "torch-lstm")
PARITY_ATOL = 1e-4


def checked(run, folder, artifact, batch, length):
    """``run`` whose first call also compares its logits with the reference logits in ``folder``
    (see the module docstring), keeping the largest difference in ``artifact["max_abs_diff"]``."""
    done = False

    def call():
        nonlocal done
        logits = run()
        if not done:
            diff = reference.max_abs_diff(folder, batch, length, logits)
            artifact["max_abs_diff"] = max(diff, artifact["max_abs_diff"] or 0.0)
            if not diff <= PARITY_ATOL:
                raise RuntimeError(f"parity: logits differ from the zoo Keras model's by {diff:.3g} "
                                   f"(> {PARITY_ATOL:g}) at batch {batch}, length {length}.")
            done = True
        return logits
    return call


def _keras_forward(facts, weights_path):
    import tensorflow as tf

    from zoo.bench import lstm_keras

    family, config = facts["family"], facts["config"]
    start = time.perf_counter()
    model = lstm_keras.build(family, lstm_weights(weights_path, family, config), config)
    build_seconds = time.perf_counter() - start
    names = ("source_ids", "target_ids") if family == "seq2seq" else ("token_ids",)
    spec = {n: tf.TensorSpec((None, None), tf.int32, name=n) for n in names}
    if family == "seq2seq":
        function = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    else:
        function = tf.function(lambda x: model(x, training=False), input_signature=[spec["token_ids"]])

    def make_call(batch, length):
        x = inputs_lib.forward_inputs(family, config, batch, length)
        feed = {n: tf.constant(x[n]) for n in names} if family == "seq2seq" else tf.constant(x["token_ids"])
        return lambda: np.asarray(function(feed))

    return make_call, build_seconds


def _torch_forward(facts, weights_path):
    import torch

    from zoo.bench import lstm_torch

    torch.set_num_threads(os.cpu_count())
    family, config = facts["family"], facts["config"]
    start = time.perf_counter()
    model = lstm_torch.build(family, lstm_weights(weights_path, family, config), config)
    build_seconds = time.perf_counter() - start
    names = ("source_ids", "target_ids") if family == "seq2seq" else ("token_ids",)

    def make_call(batch, length):
        x = inputs_lib.forward_inputs(family, config, batch, length)
        feed = [torch.from_numpy(x[n].astype(np.int64)) for n in names]

        def call():
            with torch.inference_mode():
                return model(*feed).numpy()
        return call

    return make_call, build_seconds


def load(peer, task, facts):
    """(make_call, build_seconds, artifact facts) for an LSTM peer (``zoo.bench.peers.load``'s interface).

    The artifact is the ``.keras`` file the weights come from; its
    ``max_abs_diff`` is filled in as the shapes are checked.
    """
    if task != "forward":
        raise ValueError(f"{peer} runs the forward task only, not {task!r}.")
    keras_file = _artifact(facts, "keras")
    folder = _artifact(facts, reference.ARTIFACT)["path"]
    builder = {"keras-lstm": _keras_forward, "torch-lstm": _torch_forward}[peer]
    make_forward, build_seconds = builder(facts, keras_file["path"])
    artifact = {"path": keras_file["path"], "size_bytes": keras_file["size_bytes"], "max_abs_diff": None}

    def make_call(batch, length, _):
        return checked(make_forward(batch, length), folder, artifact, batch, length)

    return make_call, build_seconds, artifact
