"""Length-bucketed batches: fewer padded tokens, and few distinct shapes for XLA.

Sentences vary in length (rt-polarity: 3 to ~60 words). Padding every batch
to the longest possible length wastes most of the compute; padding each
batch to its own longest sentence gives a new shape -- a new XLA
compilation -- almost every batch. ``tf.data``'s ``bucket_by_sequence_length``
does both right: examples are grouped by length, and each batch is padded to
its bucket's upper edge, a multiple of ``bucket_width``. At most
``max_length / bucket_width`` shapes are ever compiled.
"""

import tensorflow as tf


def bucket_edges(max_length, bucket_width):
    """Padded lengths of the buckets: bucket_width, 2 * bucket_width, ..., max_length."""
    if max_length < 1 or bucket_width < 1:
        raise ValueError(f"max_length and bucket_width must be >= 1, got {max_length}, {bucket_width}.")
    edges = list(range(bucket_width, max_length, bucket_width)) + [max_length]
    return edges


def bucketed(dataset, length_fn, max_length, batch_size, bucket_width=16, drop_remainder=False):
    """Batch ``dataset`` (elements of 1-D id tensors of length <= max_length, and scalars).

    Every variable-length component of a batch is padded with 0 to the same
    bucket edge; ``length_fn(element)`` gives the length that picks the bucket.
    """
    edges = bucket_edges(max_length, bucket_width)
    return dataset.bucket_by_sequence_length(
        element_length_func=length_fn,
        bucket_boundaries=[edge + 1 for edge in edges],
        bucket_batch_sizes=[batch_size] * (len(edges) + 1),
        pad_to_bucket_boundary=True,
        drop_remainder=drop_remainder,
    )


def wrap(ids, start_id, end_id, max_length):
    """[start] + ids + [end], truncated so the result has at most ``max_length`` ids."""
    ids = ids[: max_length - 2]
    return tf.concat([[start_id], tf.cast(ids, tf.int32), [end_id]], axis=0)
