"""Layer-wise learning-rate decay: lower layers of a pretrained encoder move less.

Fine-tuning a pretrained transformer with one learning rate for every layer
lets the task's gradients overwrite the general features of the lower layers;
scaling the rate of layer ``i`` (of ``n``) by ``decay ** (n + 1 - i)`` keeps
them closer to the pretrained weights while the head and the top layers
adapt (Howard & Ruder 2018, "ULMFiT"; Clark et al. 2020, "ELECTRA"). Depth
comes from the weight paths of the zoo's shared layers: ``embeddings*`` is
depth 0, ``block_<i>/`` is depth ``i + 1`` and everything else (poolers,
heads) is on top.
"""

import re

import keras

from zoo.training.clipping import GlobalBatchClipping
from zoo.training.compiled_update import CompiledUpdate

_BLOCK = re.compile(r"(?:^|/)block_(\d+)/")


def depth_of(path, num_blocks):
    """0 for embeddings, ``i + 1`` for ``block_<i>``, ``num_blocks + 1`` for heads."""
    match = _BLOCK.search(path)
    if match:
        return int(match.group(1)) + 1
    if path.split("/")[0].startswith("embeddings"):
        return 0
    return num_blocks + 1


def layer_scales(variables, decay):
    """The learning-rate factor of each variable: ``decay ** (top depth - its depth)``."""
    paths = [variable.path for variable in variables]
    blocks = [int(m.group(1)) + 1 for m in map(_BLOCK.search, paths) if m]
    if not blocks:
        raise ValueError(
            "layer_decay needs a model built from the zoo's transformer blocks (weights named "
            "'block_<i>/...'); this model has none. Use layer_decay=1.0 (off) for it."
        )
    num_blocks = max(blocks)
    return [decay ** (num_blocks + 1 - depth_of(path, num_blocks)) for path in paths]


class LayerDecayAdamW(CompiledUpdate, GlobalBatchClipping, keras.optimizers.AdamW):
    """AdamW whose step for each variable is scaled by its layer's factor (see the module);
    it clips the global batch's gradient (``zoo.training.clipping``) and compiles its
    update like ``zoo.training.optimizer.AdamW``.

    The factors are fixed when the optimizer is built from the model's trainable
    variables; weight decay keeps the global rate (it is a pull towards zero, not a step).
    """

    def __init__(self, layer_decay, **kwargs):
        if not 0.0 < layer_decay <= 1.0:
            raise ValueError(f"layer_decay must be in (0, 1], got {layer_decay}.")
        super().__init__(**kwargs)
        self.layer_decay = layer_decay
        self._scales = None

    def build(self, var_list):
        super().build(var_list)
        self._scales = layer_scales(var_list, self.layer_decay)

    def update_step(self, gradient, variable, learning_rate):
        scale = self._scales[self._get_variable_index(variable)]
        return super().update_step(gradient, variable, learning_rate * scale)

    def get_config(self):
        return {**super().get_config(), "layer_decay": self.layer_decay}
