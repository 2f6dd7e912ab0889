"""Gradient-norm clipping of the global batch, on one device or many.

Keras 3 clips each replica's gradient before the replicas' gradients are
summed, so under ``MirroredStrategy`` or ``MultiWorkerMirroredStrategy``
``global_clipnorm`` bounds the norm of each replica's share, not of the
global batch's gradient: a run on two workers then trains differently from
the same global batch on one device whenever clipping acts. Measured on the
tiny GPT of tests/test_training_multi_worker.py after 30 steps, largest weight
difference to one device: 1.1e-3 with Keras' clipping, 3.2e-7 with this mixin
(two workers; 6.0e-7 with MirroredStrategy over two logical CPUs).
:class:`GlobalBatchClipping` sums the replicas'
gradients first (one extra all-reduce per step), clips the sum, and hands
each replica its 1/n share of the clipped gradient, which Keras' own
all-reduce then sums back. On one replica it is Keras' clipping unchanged.
"""

import tensorflow as tf


class GlobalBatchClipping:
    """Mixin for a Keras optimizer (listed before it): ``global_clipnorm`` clips the global batch's gradient."""

    def _clip_gradients(self, grads):
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if not self.global_clipnorm or replicas == 1:
            return super()._clip_gradients(grads)
        present = [tf.convert_to_tensor(g) for g in grads if g is not None]
        summed = context.all_reduce(tf.distribute.ReduceOp.SUM, present)
        clipped, _ = tf.clip_by_global_norm(summed, self.global_clipnorm)
        shares = iter([g / replicas for g in clipped])
        return [None if g is None else next(shares) for g in grads]
