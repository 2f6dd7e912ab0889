"""The shared test harness, imported by test modules (``from harness import ...``).

* tiny configurations of every family (keras-hub style: small vocabularies,
  2 layers, a handful of hidden units), ``tiny_model`` and ``tiny_inputs``;
* ``max_abs_diff`` / ``as_numpy_tree`` over nested outputs;
* ``run_layer_test`` and ``run_model_test``: the checks every zoo layer and
  model passes (config, calls, ``.keras`` round trip, training step, mixed
  precision), one parametrized entry per class in ``test_layers_harness`` and
  ``test_models_harness``.

``conftest.py`` holds only pytest fixtures and hooks."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

import zoo  # noqa: E402  (before keras: zoo checks the CPU before TensorFlow loads)
import keras  # noqa: E402
from keras import ops, tree  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout: README.md, setup.cfg

TINY = {
    "gpt": dict(vocabulary_size=23, num_layers=2, num_heads=2, hidden_dim=8,
                intermediate_dim=16, max_sequence_length=16, dropout=0.0),
    "bert": dict(vocabulary_size=29, num_layers=2, num_heads=2, hidden_dim=8,
                 intermediate_dim=16, max_sequence_length=16, dropout=0.0),
    "lstm_lm": dict(vocabulary_size=19, num_layers=2, hidden_dim=8, embedding_dim=6, dropout=0.0),
    "seq2seq": dict(source_vocabulary_size=17, target_vocabulary_size=13, num_layers=2,
                    hidden_dim=8, dropout=0.0, max_sequence_length=16),
}
FAMILIES = tuple(TINY)
CLASSES = {"gpt": zoo.Gpt, "bert": zoo.Bert, "lstm_lm": zoo.LstmLM, "seq2seq": zoo.Seq2Seq}


def tiny_model(family, **overrides):
    return CLASSES[family](**{**TINY[family], **overrides})


def tiny_inputs(family, batch=2, length=6, seed=0):
    """Random ids in range for ``family``'s tiny config, with all-ones masks."""
    rng = np.random.default_rng(seed)
    config = TINY[family]
    if family == "seq2seq":
        return {
            "source_ids": rng.integers(0, config["source_vocabulary_size"], (batch, length)).astype("int32"),
            "source_padding_mask": np.ones((batch, length), "int32"),
            "target_ids": rng.integers(0, config["target_vocabulary_size"], (batch, length - 1)).astype("int32"),
            "target_padding_mask": np.ones((batch, length - 1), "int32"),
        }
    inputs = {
        "token_ids": rng.integers(0, config["vocabulary_size"], (batch, length)).astype("int32"),
        "padding_mask": np.ones((batch, length), "int32"),
    }
    if family == "bert":
        inputs["segment_ids"] = np.zeros((batch, length), "int32")
    return inputs


def as_numpy_tree(outputs):
    """The same structure (a tensor, dict, tuple or list of them) with numpy arrays as leaves."""
    return tree.map_structure(np.asarray, outputs)


def max_abs_diff(a, b):
    """Largest |a - b| over every tensor of two outputs of the same structure."""
    a, b = as_numpy_tree(a), as_numpy_tree(b)
    a, b = tree.flatten(a), tree.flatten(b)
    assert len(a) == len(b), f"{len(a)} tensors against {len(b)}"
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


# === The harness: every check a zoo layer or model must pass ===
#
# ``run_layer_test`` and ``run_model_test`` (after keras-hub's TestCase) put
# one class through the same checks, so a new layer or model gets more than
# a config round trip by adding one entry to a parametrized list.


def fresh_kwargs(init_kwargs):
    """``init_kwargs``, or what it returns when it is a function: kwargs that
    hold layers or models (a tied embedding, a backbone) must give every
    instance its own, built under the dtype policy in force."""
    return init_kwargs() if callable(init_kwargs) else dict(init_kwargs)


def symbolic_inputs(input_data):
    """One ``keras.Input`` per array of ``input_data``, batch dimension left open."""
    return {
        name: keras.Input(shape=np.shape(value)[1:], dtype=str(np.asarray(value).dtype), name=name)
        for name, value in input_data.items()
    }


def is_float(tensor):
    """True for a floating-point tensor (ids, masks and positions are not)."""
    return "float" in keras.backend.standardize_dtype(tensor.dtype)


def shape_list(expected_output_shape):
    """Expected shapes in ``keras.tree.flatten`` order: one shape, a dict of
    shapes (sorted by name, as tree sorts dict outputs) or a list of shapes."""
    if isinstance(expected_output_shape, dict):
        return [tuple(expected_output_shape[name]) for name in sorted(expected_output_shape)]
    if all(dim is None or isinstance(dim, int) for dim in expected_output_shape):
        return [tuple(expected_output_shape)]
    return [tuple(shape) for shape in expected_output_shape]


def check_outputs(outputs, expected_output_shape, expected_dtype, symbolic=False):
    """Every output has its expected shape (a symbolic ``None`` matches any
    size: the batch is left open) and every float output ``expected_dtype``."""
    tensors = tree.flatten(outputs)
    expected = shape_list(expected_output_shape)
    actual = [tuple(t.shape) for t in tensors]
    assert len(actual) == len(expected), f"outputs {actual}, expected {expected}"
    for got, want in zip(actual, expected):
        matches = len(got) == len(want) and all(
            g == w or (symbolic and g is None) for g, w in zip(got, want)
        )
        assert matches, f"output shape {got}, expected {want}"
    dtypes = {keras.backend.standardize_dtype(t.dtype) for t in tensors if is_float(t)}
    assert dtypes == {expected_dtype}, f"float outputs are {dtypes}, expected {expected_dtype}"


def check_config_round_trip(instance, restored=None):
    """A Keras serialize / JSON / deserialize round trip (which finds the
    class by its registered name and calls its ``from_config`` on the
    ``get_config()`` it serialized) gives the same class and the same config.

    ``restored``: an instance that already made that trip (a model loaded
    from a ``.keras`` file, whose config.json is exactly that JSON), so a
    large model is not rebuilt once more."""
    config = instance.get_config()
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(instance)))
    assert serialized["config"] == config  # plain JSON, nothing opaque
    if restored is None:
        restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(instance)
    assert restored.get_config() == config


def check_save_load(model, input_data):
    """A ``.keras`` round trip (safe mode, no custom_objects) gives exactly
    the same outputs; returns the loaded model."""
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert max_abs_diff(model(input_data), loaded(input_data)) == 0.0
    return loaded


def check_fit_step(model, x, y, loss, expected_unchanged=()):
    """One Adam step gives a finite loss and moves every trainable weight,
    except those whose path contains one of ``expected_unchanged`` (weights
    the loss does not reach by design, e.g. BERT's pooler under a token head):
    Adam leaves a weight unchanged exactly when its gradient is zero.

    The step runs eagerly: tracing a train function costs ~5 s per class on
    two shared cores, and compiled (XLA) training of every family has its
    own tests (``test_models.test_fit_reduces_loss_with_xla``, ``test_training``)."""
    weights = model.trainable_weights
    assert weights, "nothing to train"
    before = [np.array(w.numpy()) for w in weights]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, run_eagerly=True)
    history = model.fit(x, y, batch_size=len(tree.flatten(x)[0]), epochs=1, verbose=0)
    assert math.isfinite(history.history["loss"][0])
    unchanged = sorted(w.path for w, old in zip(weights, before) if np.array_equal(old, w.numpy()))
    expected = sorted(w.path for w in weights if any(part in w.path for part in expected_unchanged))
    assert unchanged == expected, f"unchanged after a step: {unchanged}, expected {expected}"


@contextlib.contextmanager
def global_dtype_policy(name):
    """Set Keras' global dtype policy inside the block, restoring it even on failure."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def check_mixed_bfloat16(make, call, expected_output_dtype):
    """Built under ``mixed_bfloat16``: every weight is float32, every sublayer
    that holds weights computes in bfloat16, and the outputs are finite with
    float dtype ``expected_output_dtype`` (float32 where logits are cast back)."""
    with global_dtype_policy("mixed_bfloat16"):
        instance = make()
        outputs = call(instance)
    assert instance.dtype_policy.name == "mixed_bfloat16"
    for weight in instance.weights:
        assert keras.backend.standardize_dtype(weight.dtype) == "float32", weight.path
    for sublayer in instance._flatten_layers():
        if sublayer.weights:
            assert sublayer.compute_dtype == "bfloat16", sublayer.name
    check_finite(outputs)
    dtypes = {keras.backend.standardize_dtype(t.dtype) for t in tree.flatten(outputs) if is_float(t)}
    assert dtypes == {expected_output_dtype}, f"mixed outputs are {dtypes}"


def check_finite(outputs):
    """No NaN or infinity in any output (bfloat16 ones read as float32)."""
    for tensor in tree.flatten(outputs):
        assert np.all(np.isfinite(np.asarray(ops.cast(tensor, "float32")))), "non-finite output"


def wrap_layer(layer, input_data, call_kwargs):
    """A functional model around ``layer``, with one input per array of ``input_data``."""
    inputs = symbolic_inputs(input_data)
    return keras.Model(inputs, layer(**inputs, **call_kwargs))


def as_tensors(input_data):
    """Arrays to tensors: a layer called directly gets what a model would pass it."""
    return {name: ops.convert_to_tensor(value) for name, value in input_data.items()}


def check_weight_counts(layer, num_trainable, num_non_trainable):
    """A symbolic call built the layer with the expected weights (``None``: any number trainable)."""
    assert layer.built
    if num_trainable is not None:
        assert len(layer.trainable_weights) == num_trainable, [w.path for w in layer.trainable_weights]
    assert len(layer.non_trainable_weights) == num_non_trainable, [w.path for w in layer.non_trainable_weights]


def check_layer_trains(layer, input_data, call_kwargs, expected_unchanged):
    """One step of a model around ``layer`` (its first output against random
    targets, mean squared error): see ``check_fit_step``."""
    wrapped = wrap_layer(layer, input_data, call_kwargs)
    model = keras.Model(wrapped.inputs, tree.flatten(wrapped.outputs)[0])
    shape = np.shape(model(input_data))
    target = np.random.default_rng(0).normal(size=shape).astype("float32")
    check_fit_step(model, input_data, target, "mse", expected_unchanged)


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=0,
    run_training_check=True,
    run_mixed_precision_check=True,
    call_kwargs=None,
    mixed_output_dtype="bfloat16",
    expected_unchanged=(),
):
    """Put a zoo layer through every harness check.

    ``input_data`` maps call argument names to arrays (the layer is called as
    ``layer(**input_data, **call_kwargs)``); ``expected_output_shape`` is one
    shape, or a dict / list of shapes for several outputs. ``init_kwargs``
    may be a function returning the kwargs (see ``fresh_kwargs``).
    """
    call_kwargs = call_kwargs or {}

    def make():
        return layer_cls(**fresh_kwargs(init_kwargs))

    def call(layer):
        return layer(**as_tensors(input_data), **call_kwargs)

    check_config_round_trip(make())

    layer = make()
    symbolic = layer(**symbolic_inputs(input_data), **call_kwargs)
    check_outputs(symbolic, expected_output_shape, layer.compute_dtype, symbolic=True)
    check_weight_counts(layer, expected_num_trainable_weights, expected_num_non_trainable_weights)

    layer = make()
    check_outputs(call(layer), expected_output_shape, layer.compute_dtype)

    check_save_load(wrap_layer(make(), input_data, call_kwargs), input_data)

    if run_training_check:
        check_layer_trains(make(), input_data, call_kwargs, expected_unchanged)

    if run_mixed_precision_check:
        check_mixed_bfloat16(make, call, mixed_output_dtype)


def run_model_test(
    model_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    fit_data,
    loss=None,
    expected_unchanged=(),
    mixed_output_dtype="float32",
):
    """Put a zoo model through every harness check.

    ``fit_data`` is ``(x, y)`` for one step with ``loss`` (default: sparse
    categorical cross-entropy on the logits: the LM and classifier losses).
    ``mixed_output_dtype``: the float dtype of the outputs under
    ``mixed_bfloat16`` (float32 for logits, bfloat16 for hidden states).
    """
    loss = loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def make():
        return model_cls(**fresh_kwargs(init_kwargs))

    model = make()
    check_outputs(model(symbolic_inputs(input_data)), expected_output_shape, "float32", symbolic=True)
    check_outputs(model(input_data), expected_output_shape, "float32")
    check_config_round_trip(model, restored=check_save_load(model, input_data))
    check_fit_step(model, *fit_data, loss, expected_unchanged)
    check_mixed_bfloat16(make, lambda m: m(input_data), mixed_output_dtype)


def next_token_data(inputs, ids="token_ids", mask="padding_mask"):
    """``(x, y)`` for a language-model step: ids and mask without their last
    position as inputs, the ids shifted one position left as labels."""
    x = dict(inputs, **{ids: inputs[ids][:, :-1], mask: inputs[mask][:, :-1]})
    return x, inputs[ids][:, 1:]
