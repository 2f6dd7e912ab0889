"""Run a stack of identically built layers by tracing the first one once.

Tracing a Keras layer into a TensorFlow graph costs Python time for every op
it creates, and a decode loop traces its model twice (the prompt pass and
the step). gpt2's twelve blocks were most of the 2 s that tracing took, and
tracing was most of a warm first ``zoo.generate`` call. The twelve blocks
build the same graph with different weights.

:func:`call_stack` traces ``layers[0]`` once, as a ``tf.function`` that
takes the weights as inputs (``keras.StatelessScope`` reads the first
layer's variables as the tensors passed in), and calls that one function
with each layer's own weights. XLA inlines the calls, so the compiled
program and its numbers are those of calling the layers one by one
(``benchmarks/first_call_cache.py`` and the generation tests measure and
check it).

It applies only while tracing (inside a ``tf.function``) and outside
:func:`zoo.layers.export_mode`: eager calls gain nothing, and exporters keep
the flat graph tf2onnx converts. Layers whose weights differ in number or
shape are called one by one.
"""

import keras
import tensorflow as tf

from zoo.layers.attention_core import in_export_mode


def _same_structure(layers):
    shapes = [tuple(tuple(w.shape) for w in layer.weights) for layer in layers]
    return all(s == shapes[0] for s in shapes[1:])


def call_stack(layers, x, per_layer_kwargs, **shared_kwargs):
    """``x, state_i = layers[i](x, **per_layer_kwargs[i], **shared_kwargs)`` in order.

    Each layer returns ``(x, state)``; returns the last ``x`` and the list of states.
    Per-layer arguments should be tensors: like any ``tf.function``, the traced
    layer is traced again for each distinct Python value it is given.
    """
    if not tf.inside_function() or in_export_mode() or not _same_structure(layers):
        states = []
        for layer, kwargs in zip(layers, per_layer_kwargs):
            x, state = layer(x, **kwargs, **shared_kwargs)
            states.append(state)
        return x, states

    template = layers[0]

    def call_template(x, kwargs, weights):
        with keras.StatelessScope(state_mapping=list(zip(template.weights, weights))):
            return template(x, **kwargs, **shared_kwargs)

    traced_once = tf.function(call_template, autograph=False)
    states = []
    for layer, kwargs in zip(layers, per_layer_kwargs):
        x, state = traced_once(x, kwargs, [w.value for w in layer.weights])
        states.append(state)
    return x, states
