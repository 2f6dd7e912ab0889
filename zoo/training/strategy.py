"""The ``tf.distribute`` strategy a run trains under.

"default" is TensorFlow's default strategy (one device); "mirrored" is
``MirroredStrategy`` over every GPU, or over every logical CPU device when
there is no GPU (what the tests use: two logical CPUs). Keras ``fit``
splits each global batch across the replicas and all-reduces gradients, so
a user with several GPUs gets data parallelism from TensorFlow itself.
"""

import tensorflow as tf


def make_strategy(name):
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        cross_device_ops = None if gpus else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(devices=devices, cross_device_ops=cross_device_ops)
    raise ValueError(f"strategy must be 'default' or 'mirrored', got {name!r}.")
