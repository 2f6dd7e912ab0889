"""The weights of a zoo ``LstmLM`` / ``Seq2Seq`` read from its ``.keras`` file, without TensorFlow.

Why not ``keras.saving.load_model``: the torch peer must not import
TensorFlow (its memory would then be TensorFlow's too), and a model loaded
only to copy its weights would sit in the keras peer's memory. A ``.keras``
file is a zip holding ``model.weights.h5``; h5py reads it directly.

Keras names each layer's group after its class (``dense``, ``dense_1``,
...) in the order of ``model.layers`` - for these two classes a fixed order
(``NAMES`` below; the tests build every variant and compare logits, and the
bench peers check parity with the zoo model before timing, so a changed
order fails loudly rather than silently).

Result: plain numpy arrays in the zoo's (Keras) layout - kernels (in, out),
LSTM gates in the order i, f, c, o - under role names:

* ``lstm_lm``: ``embedding`` (V, E), ``lstm`` [cell per layer],
  ``projection`` / ``output`` ((kernel, bias) or None);
* ``seq2seq``: ``source_embedding``, ``target_embedding``, ``encoder``
  [cell, or {"forward", "backward"} cells, per layer], ``decoder`` [cell
  per layer], ``attention`` (the general score's kernel or None),
  ``combine``, ``projection``, ``output``;

where a cell is {"kernel" (in, 4u), "recurrent_kernel" (u, 4u), "bias" (4u)}.
"""

import io
import zipfile

import numpy as np

# Group name in model.weights.h5 -> role, per family (Keras' order of model.layers).
NAMES = {
    "lstm_lm": {"token_embedding": "embedding", "lstm_stack": "lstm", "dense": "dense"},
    "seq2seq": {"token_embedding": "target_embedding", "token_embedding_1": "source_embedding",
                "lstm_stack": "encoder", "lstm_stack_1": "decoder", "source_attention": "attention",
                "dense": "combine", "dense_1": "dense"},
}


def _tree(group):
    """An h5 group as nested dicts; ``vars`` groups become lists of arrays in index order."""
    import h5py

    out = {}
    for key, item in group.items():
        if key == "vars":
            out["vars"] = [np.asarray(item[str(i)]) for i in range(len(item))]
        elif isinstance(item, h5py.Group):
            out[key] = _tree(item)
    return out


def _unique_names(prefix, count):
    """Keras' container names for ``count`` objects of one class: prefix, prefix_1, ..."""
    return [prefix if i == 0 else f"{prefix}_{i}" for i in range(count)]


def _cell(tree):
    kernel, recurrent_kernel, bias = tree["cell"]["vars"]
    return {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}


def _stack(tree, num_layers):
    """Cells of an ``LstmStack`` group, one entry per layer."""
    lstms = tree["lstms"]
    if "bidirectional" in lstms:
        return [{"forward": _cell(lstms[n]["forward_layer"]), "backward": _cell(lstms[n]["backward_layer"])}
                for n in _unique_names("bidirectional", num_layers)]
    return [_cell(lstms[n]) for n in _unique_names("lstm", num_layers)]


def _dense(tree):
    return tuple(tree["vars"]) if tree else None


def read_keras_file(path):
    """The ``layers`` tree of the weights file inside the ``.keras`` zip at ``path``."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(data), "r") as file:
        return _tree(file["layers"])


def lstm_weights(path, family, config):
    """The role -> weights dict above for the zoo model saved at ``path`` (``config``: its config)."""
    if family not in NAMES:
        raise ValueError(f"No LSTM weights layout for family {family!r} (supported: {', '.join(NAMES)}).")
    tree = read_keras_file(path)
    missing = sorted(set(NAMES[family]) - set(tree) - {"dense", "dense_1", "source_attention"})
    if missing:
        raise ValueError(f"{path} has no {', '.join(missing)} weights: not a zoo {family} model? "
                         f"(groups: {', '.join(sorted(tree))})")
    found = {role: tree.get(name) for name, role in NAMES[family].items()}
    num_layers = config["num_layers"]
    dense = _dense(found.pop("dense"))
    weights = {"projection": dense if config.get("tie_embeddings", True) else None,
               "output": None if config.get("tie_embeddings", True) else dense}
    if family == "lstm_lm":
        weights.update(embedding=found["embedding"]["vars"][0], lstm=_stack(found["lstm"], num_layers))
        return weights
    attention = found["attention"]
    weights.update(
        source_embedding=found["source_embedding"]["vars"][0],
        target_embedding=found["target_embedding"]["vars"][0],
        encoder=_stack(found["encoder"], num_layers),
        decoder=_stack(found["decoder"], num_layers),
        attention=attention["query_projection"]["vars"][0] if attention and "query_projection" in attention else None,
        combine=_dense(found["combine"]),
    )
    return weights
