"""The compute precision a run trains in when the user leaves it to the zoo (``precision="auto"``).

Measured on the AVX-512 BF16 kind (README, "Training against PyTorch"):
TensorFlow's oneDNN bfloat16 kernels, *without* XLA, run a transformer's
training step faster than float32 under XLA once its matrix products are
wide enough -- gpt-mini (256 wide) 484 against 770 ms per step, MiniLM (384
wide) 414 against 537 ms -- at no measurable cost in loss or accuracy. XLA's
own bf16 is slower than its fp32 on the same CPU, so bf16 goes with XLA off.
gpt-nano (128 wide) is slower in bf16 (45-56 against 37-41 ms per step): its
products are too small for the conversions to pay. A CPU without bf16 units
(the AVX2-only kind) would emulate bf16, so it keeps float32.

``auto`` is therefore ``mixed_bfloat16`` without XLA for a GPT or BERT at
least :data:`MIN_BF16_WIDTH` wide, trained on the CPU of a machine whose CPU has
bf16 dot-product units and no GPU; ``float32`` with XLA (as asked) everywhere
else -- including GPUs, LSTMs and seq2seq, where bf16 was not measured.
"""

import dataclasses

import keras
import tensorflow as tf

from zoo import cpu
from zoo.models.bert import Bert, BertTask
from zoo.models.gpt import Gpt

AUTO = "auto"  # the ``precision`` option's default, see zoo.training.options
MIN_BF16_WIDTH = 256


@dataclasses.dataclass(frozen=True)
class Precision:
    """What a run trains in: the Keras dtype policy, whether XLA compiles it, and why."""

    policy: str
    jit_compile: bool
    reason: str


def transformer_width(model):
    """The hidden width of a zoo GPT or BERT (a BERT task's backbone), None for other models."""
    if isinstance(model, (Gpt, Bert, BertTask)):
        return int(model.config.hidden_dim)
    return None


def choose(requested, jit_compile, model, flags=None, has_gpu=None):
    """The :class:`Precision` for ``model`` given the ``precision`` and ``jit_compile`` options."""
    if requested != AUTO:
        return Precision(requested, jit_compile, "asked for")
    has_gpu = bool(tf.config.list_logical_devices("GPU")) if has_gpu is None else has_gpu
    width = transformer_width(model)
    if has_gpu:
        return Precision("float32", jit_compile, "auto: float32 on a GPU (bf16 there is not measured)")
    if not cpu.has_bf16_dot_product(flags):
        return Precision("float32", jit_compile, "auto: float32, this CPU has no bf16 dot-product units")
    if width is None:
        return Precision("float32", jit_compile, "auto: float32, bf16 is measured for GPT and BERT only")
    if width < MIN_BF16_WIDTH:
        return Precision("float32", jit_compile,
                         f"auto: float32, a {width}-wide model is too narrow for bf16 to pay "
                         f"(it does from {MIN_BF16_WIDTH})")
    return Precision("mixed_bfloat16", False,
                     f"auto: mixed_bfloat16 without XLA on this CPU's bf16 units ({width}-wide model)")


def rebuilt_in(model, policy):
    """``model`` rebuilt from its config under the dtype policy ``policy``, with its weights.

    A Keras layer takes its compute dtype when it is built, so a model built in
    float32 changes precision by being built again (its variables stay float32
    under ``mixed_bfloat16``, so the weights carry over exactly)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        copy = type(model).from_config(model.get_config())
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    return copy
