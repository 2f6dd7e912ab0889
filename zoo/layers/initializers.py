"""Fresh initializer instances for every weight.

A Keras 3 initializer *instance* returns the same values on every call, seeded
or not. Handing one instance to several layers would make, e.g., the query,
key and value kernels of an attention layer identical (a symmetric start that
training cannot break, and constants tf2onnx deduplicates). Every weight
therefore gets its own instance, rebuilt from the initializer's config.
"""

import keras


def clone_initializer(initializer):
    """A new instance of ``initializer`` (a name, config dict or instance)."""
    initializer = keras.initializers.get(initializer)
    return keras.initializers.get(keras.initializers.serialize(initializer))
