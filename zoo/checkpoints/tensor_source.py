"""Handing out a checkpoint's tensors by name, each checked against the shape the config implies.

The BERT and GPT-2 mappings ask a :class:`TensorSource` for every tensor
they need (``take``), collect ``(variable, array)`` pairs, and only then
call :func:`assign_all`. So a checkpoint that is missing a tensor, or whose
tensor disagrees with ``config.json``, is reported by name before any
variable of the model has been touched.
"""

import numpy as np

from zoo.checkpoints.hf_folder import CheckpointError


class TensorSource:
    """The tensors of one checkpoint, with a name prefix (``"bert."``, ``"transformer."``).

    Args:
        tensors: ``{name: numpy array}`` from ``hf_folder.read_tensors``.
        prefix: prepended to every name asked for (task checkpoints nest the
            backbone under a prefix; a bare backbone has none).
        config_summary: the config fields that set the shapes, quoted in errors.

    The error texts are class attributes, so a source of another kind (a
    keras-hub model's variables) says where its names and shapes come from.
    """

    MISSING = (
        "The checkpoint has no tensor {name!r}{aliases}, which its config.json's model type and "
        "num_layers call for. The file is incomplete or from another architecture; re-save it "
        "with `model.save_pretrained(folder)`."
    )
    MISMATCH = (
        "Tensor {name!r} has shape {shape}, but config.json ({summary}) implies {expected}. "
        "The weights and config.json disagree: use the config.json that was saved with these weights."
    )

    def __init__(self, tensors, prefix="", config_summary=""):
        self.tensors = tensors
        self.prefix = prefix
        self.config_summary = config_summary
        self.taken = set()

    def has(self, name, prefixed=True):
        return (self.prefix + name if prefixed else name) in self.tensors

    def take(self, name, shape, prefixed=True, aliases=()):
        """The tensor ``name`` (or the first present alias), as float32 of exactly ``shape``.

        Raises a :class:`CheckpointError` naming the tensor when it is
        missing or its shape is not ``shape``.
        """
        candidates = [name, *aliases]
        full_names = [self.prefix + n if prefixed else n for n in candidates]
        found = next((n for n in full_names if n in self.tensors), None)
        if found is None:
            aliases = f" (nor {', '.join(map(repr, full_names[1:]))})" if len(full_names) > 1 else ""
            raise CheckpointError(self.MISSING.format(name=full_names[0], aliases=aliases, summary=self.config_summary))
        array = self.tensors[found]
        if tuple(array.shape) != tuple(shape):
            raise CheckpointError(self.MISMATCH.format(
                name=found, shape=tuple(array.shape), summary=self.config_summary, expected=tuple(shape)))
        self.taken.add(found)
        return np.asarray(array, dtype=np.float32)

    def untaken(self, ignore=()):
        """Names never taken, minus those containing any of ``ignore`` (buffers, tied copies)."""
        return sorted(
            name for name in self.tensors
            if name not in self.taken and not any(part in name for part in ignore)
        )


def assign_all(pairs):
    """Copy each ``(keras variable, array)`` pair; shapes were checked by ``take``."""
    for variable, array in pairs:
        if tuple(variable.shape) != tuple(array.shape):  # a mapping bug, not a user error
            raise AssertionError(f"{variable.path}: {tuple(variable.shape)} != {tuple(array.shape)}")
        variable.assign(array.astype(variable.dtype, copy=False))
