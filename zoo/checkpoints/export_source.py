"""Running an import mapping backwards: zoo weights -> the tensors it would have read.

Every import mapping (``bert.task_pairs``, ``gpt2.weight_pairs``,
``keras_hub_mapping``) asks a source for each foreign tensor with
``take(name, shape)`` and pairs a zoo variable with that tensor or a *view* of
it (transposed, a column block of a fused projection, reshaped). An
:class:`ExportSource` answers ``take`` with an empty buffer of exactly that
shape (the same buffer when a name is asked twice), so the pairs come back
holding views of the buffers; :func:`fill` writes each zoo variable through
its view, which fills the buffers with the tensors an import would read back
into the same variables. Export therefore needs no second name table: it is
the import mapping, and a round trip reproduces the weights exactly.

A mapping that copies instead of viewing (``np.asarray(..., dtype)``,
``np.concatenate``) cannot be run backwards; :func:`fill` detects that, and a
tensor the pairs do not cover entirely, and raises (a zoo bug, not a user
error).
"""

import keras
import numpy as np


class ExportSource:
    """Stands in for ``TensorSource`` when exporting: ``take`` returns writable buffers.

    Args:
        prefix: prepended to every prefixed name (``"bert."``, ``"transformer."``).
        present: full names ``has`` reports as present: the optional tensors
            the target format holds (e.g. BERT's pooler); every other
            optional tensor is left out (e.g. LM heads tied to the embedding).
    """

    def __init__(self, prefix="", present=()):
        self.prefix = prefix
        self.present = set(present)
        self.buffers = {}

    def _full(self, name, prefixed):
        return self.prefix + name if prefixed else name

    def has(self, name, prefixed=True):
        return self._full(name, prefixed) in self.present

    def take(self, name, shape, prefixed=True, aliases=()):
        """The float32 buffer for ``name`` (aliases are import-only spellings and ignored)."""
        full = self._full(name, prefixed)
        buffer = self.buffers.get(full)
        if buffer is None:
            buffer = self.buffers[full] = np.zeros(tuple(shape), np.float32)
        elif buffer.shape != tuple(shape):
            raise AssertionError(f"{full!r} asked for as {buffer.shape} and as {tuple(shape)}")
        return buffer


def fill(pairs, source):
    """Write every zoo variable of ``pairs`` into its view; return ``{name: array}``."""
    owners = {id(buffer): name for name, buffer in source.buffers.items()}
    written = dict.fromkeys(source.buffers, 0)
    for variable, view in pairs:
        owner = owners.get(id(view if view.base is None else view.base))
        if owner is None or not view.flags.writeable:
            raise AssertionError(f"{variable.path}: its mapping copies the tensor, so it cannot be run backwards")
        view[...] = keras.ops.convert_to_numpy(variable.value).astype(np.float32)
        written[owner] += view.size
    partial = [name for name, count in written.items() if count != source.buffers[name].size]
    if partial:
        raise AssertionError(f"the mapping does not cover all of {partial[:5]}")
    return dict(source.buffers)
