"""AdamW with linear warmup and cosine decay: the schedule nanoGPT and BERT train with.

Everything is Keras: ``keras.optimizers.schedules.CosineDecay`` (its
``warmup_target``/``warmup_steps`` give the linear warmup) and
``keras.optimizers.AdamW``. Biases and LayerNorm scales/offsets are not
weight-decayed (as in nanoGPT and BERT). Gradient clipping bounds the global
batch's gradient under every strategy (``zoo.training.clipping``).
"""

import keras

from zoo.training.clipping import GlobalBatchClipping
from zoo.training.compiled_update import CompiledUpdate
from zoo.training.layer_decay import LayerDecayAdamW


class AdamW(CompiledUpdate, GlobalBatchClipping, keras.optimizers.AdamW):
    """Keras' AdamW, clipping the global batch's gradient (see ``zoo.training.clipping``),
    its update XLA-compiled when the train step is not (``zoo.training.compiled_update``)."""

NO_DECAY = ["bias", "gamma", "beta"]


def warmup_cosine(learning_rate, total_steps, warmup_steps, min_learning_rate):
    """0 -> ``learning_rate`` linearly over ``warmup_steps``, then cosine down to ``min_learning_rate``."""
    if learning_rate <= 0 or min_learning_rate < 0 or min_learning_rate > learning_rate:
        raise ValueError(
            f"Need 0 <= min_learning_rate <= learning_rate and learning_rate > 0; got "
            f"learning_rate={learning_rate}, min_learning_rate={min_learning_rate}."
        )
    warmup_steps = max(0, min(int(warmup_steps), int(total_steps) - 1))
    decay_steps = max(1, int(total_steps) - warmup_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else learning_rate,
        decay_steps=decay_steps,
        alpha=min_learning_rate / learning_rate,
        warmup_target=learning_rate if warmup_steps else None,
        warmup_steps=warmup_steps,
    )


def adamw(options, total_steps, compile_update=False):
    """The optimizer for a recipe's ``options`` (see ``zoo.training.options.COMMON``).

    ``compile_update``: run the weight decay and update steps as one XLA call
    (for train steps that are not XLA-compiled; ``zoo.training.compiled_update``).

    Recipes that declare them also set ``layer_decay`` (below 1: layer-wise learning
    rates, ``zoo.training.layer_decay``) and ``ema_momentum`` (above 0: the model ends
    training with the exponential moving average of its weights, Keras' ``use_ema``).
    """
    layer_decay = options.get("layer_decay", 1.0)
    ema_momentum = options.get("ema_momentum", 0.0)
    if not 0.0 <= ema_momentum < 1.0:
        raise ValueError(f"ema_momentum must be in [0, 1) (0 = off), got {ema_momentum}.")
    settings = dict(
        learning_rate=warmup_cosine(
            options["learning_rate"], total_steps, options["warmup_steps"], options["min_learning_rate"]
        ),
        weight_decay=options["weight_decay"],
        beta_1=0.9,
        beta_2=options["beta_2"],
        global_clipnorm=options["clipnorm"] or None,
    )
    if ema_momentum > 0:
        settings.update(use_ema=True, ema_momentum=ema_momentum)
    if layer_decay != 1.0:
        optimizer = LayerDecayAdamW(layer_decay, **settings)
    else:
        optimizer = AdamW(**settings)
    optimizer.exclude_from_weight_decay(var_names=NO_DECAY)
    optimizer.compile_update = compile_update
    return optimizer
