"""The ``tf.distribute`` strategy a run trains under.

"default" is TensorFlow's default strategy (one device); "mirrored" is
``MirroredStrategy`` over every GPU, or over every logical CPU device when
there is no GPU (what the tests use: two logical CPUs). Keras ``fit``
splits each global batch across the replicas and all-reduces gradients, so
a user with several GPUs gets data parallelism from TensorFlow itself.
"multi-worker" (``MultiWorkerMirroredStrategy`` over several machines) is
joined by ``zoo.training.multi_worker.join``, which first checks the cluster.
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
    if name == "multi-worker":
        raise ValueError("strategy 'multi-worker' is joined with zoo.training.multi_worker.join(cluster, ...).")
    raise ValueError(f"strategy must be 'default', 'mirrored' or 'multi-worker', got {name!r}.")


def prebuild_for_strategy(model, dataset, strategy):
    """Build the compiled loss and metrics from one real batch before ``fit``.

    Under a non-default strategy Keras 3.15 builds them from a batch it
    averages across replicas with ``strategy.reduce("MEAN")``, which turns
    integer token ids into floats, and then fails ("must be an integer
    tensor"). Building them here from one undistributed batch (public
    ``compute_loss`` / ``compute_metrics``) skips that path. No-op for the
    default strategy, where Keras builds them while tracing the train step.
    """
    if strategy is tf.distribute.get_strategy():
        return
    batch = next(iter(dataset.take(1)))
    x, y, sample_weight = (tuple(batch) + (None,))[:3]
    with strategy.scope():
        y_pred = model(x, training=False)
        model.compute_loss(x, y, y_pred, sample_weight)
        model.compute_metrics(x, y, y_pred, sample_weight)


def xla_allowed(strategy):
    """False for several replicas on CPU devices: XLA cannot read a variable that lives
    on another logical CPU device (TensorFlow's "tf.Variable on a different device"
    XLA known issue), nor compile the cross-worker all-reduce of a multi-worker run
    on CPUs (UnimplementedError "collective ... not yet implemented for CPU devices"),
    so such runs train without ``jit_compile``. GPUs are fine."""
    if strategy.num_replicas_in_sync <= 1:
        return True
    return bool(tf.config.list_logical_devices("GPU"))


def steps_use_xla(chosen, strategy):
    """Whether a run's train steps are XLA-compiled: ``chosen`` (a ``precision.choose``
    result) asks for it and ``strategy`` allows it (:func:`xla_allowed`)."""
    return chosen.jit_compile and xla_allowed(strategy)
